"""Logger factories that need more than a ``_target_``.

W&B must work for a user with no account and no network: it runs offline unless the user has
logged in (``wandb login`` writes an API key to ``~/.netrc``) or set ``WANDB_API_KEY``, and it is
never allowed to prompt.
"""

from __future__ import annotations

import logging
import netrc
import os
from typing import Any
from urllib.parse import urlparse

from seg.errors import ConfigError

log = logging.getLogger(__name__)

WANDB_MODES = ("auto", "online", "offline", "disabled")


def _wandb_host() -> str:
    return (
        urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
        or "api.wandb.ai"
    )


def wandb_credentials_available() -> bool:
    """True when an API key is set in the environment or stored by ``wandb login`` in netrc."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    try:
        return netrc.netrc(path).authenticators(_wandb_host()) is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def resolve_wandb_mode(mode: str = "auto") -> str:
    """Decide the W&B mode.

    Args:
        mode: ``auto`` (default), ``online``, ``offline`` or ``disabled``. ``auto`` follows
            ``WANDB_MODE`` when set, else goes online only when credentials are available.

    Returns:
        The mode passed to ``wandb.init``.
    """
    if mode not in WANDB_MODES:
        raise ConfigError(f"logger.wandb.mode must be one of {WANDB_MODES}, got {mode!r}.")
    if mode != "auto":
        return mode
    env_mode = os.environ.get("WANDB_MODE")
    if env_mode:
        return "offline" if env_mode == "dryrun" else env_mode
    return "online" if wandb_credentials_available() else "offline"


def wandb_logger(mode: str = "auto", **kwargs: Any):
    """Build a Lightning ``WandbLogger`` that never prompts.

    Args:
        mode: See :func:`resolve_wandb_mode`.
        **kwargs: Passed to :class:`lightning.pytorch.loggers.WandbLogger` (project, name, save_dir,
            tags, group, ...).
    """
    from lightning.pytorch.loggers import WandbLogger

    resolved = resolve_wandb_mode(mode)
    if resolved == "online" and not wandb_credentials_available():
        raise ConfigError(
            "logger.wandb.mode=online but no W&B credentials were found: run `wandb login` or set "
            "WANDB_API_KEY, or use logger.wandb.mode=offline (sync later with `wandb sync`)."
        )
    # Never ask on stdin: with no credentials we are offline, with credentials there is nothing to ask.
    os.environ.setdefault("WANDB_SILENT", "true")
    os.environ["WANDB_MODE"] = resolved
    if resolved == "offline":
        log.info("W&B runs offline (no login found); sync later with `wandb sync <run dir>/wandb`.")
    save_dir = kwargs.get("save_dir")
    if save_dir:
        os.makedirs(save_dir, exist_ok=True)
    return WandbLogger(mode=resolved, offline=resolved == "offline", **kwargs)
