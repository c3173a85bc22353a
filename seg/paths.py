"""Where the project lives: the one place that knows the checkout root and the config folder.

``configs/paths/default.yaml`` roots every run folder, cache and data folder at
``${oc.env:PROJECT_ROOT}``. :func:`project_root` is that folder: ``$PROJECT_ROOT`` when set, else
the checkout this package was installed from (``make install`` installs it editable), and
:func:`ensure_project_env` sets the variable for the configs. :func:`config_dir` is the Hydra
config folder: ``$SEG_CONFIG_DIR`` when set, else ``<checkout>/configs``.
"""

from __future__ import annotations

import os
from pathlib import Path

from seg.errors import MissingFileError

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT = PACKAGE_DIR.parent  # seg/ sits in the checkout root next to configs/ and train.py


def project_root() -> Path:
    """The folder run outputs, caches and data live under (``$PROJECT_ROOT`` or the checkout)."""
    return Path(os.environ.get("PROJECT_ROOT") or CHECKOUT)


def ensure_project_env() -> Path:
    """Set ``$PROJECT_ROOT`` (read by the configs) to :func:`project_root` unless it is set."""
    root = project_root()
    os.environ.setdefault("PROJECT_ROOT", str(root))
    return root


def config_dir() -> Path:
    """The Hydra config folder (``$SEG_CONFIG_DIR``, else ``<checkout>/configs``).

    Raises:
        MissingFileError: When the folder has no ``train.yaml`` (seg installed without its
            checkout): the message says how to point seg at one.
    """
    folder = Path(os.environ.get("SEG_CONFIG_DIR") or CHECKOUT / "configs")
    if not (folder / "train.yaml").is_file():
        raise MissingFileError(
            f"No seg configs at {folder} (train.yaml missing). seg runs from its checkout: clone "
            "the repository and `make install` (an editable install), or set SEG_CONFIG_DIR to "
            "a folder holding train.yaml and its groups."
        )
    return folder
