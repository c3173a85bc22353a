"""Dataset formats: each turns a dataset on disk into :class:`seg.data.records.Record` lists.

``scan(format, root, name, **options)`` dispatches to the format's module; the options are the
format's own (e.g. ``list_files`` for ``list``, ``image_dir``/``matte_dir`` for ``matting``).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from seg.data.records import DatasetError, Record

FORMATS = {
    "folder": "seg.data.formats.folder",
    "list": "seg.data.formats.listfile",
    "supervisely": "seg.data.formats.supervisely",
    "matting": "seg.data.formats.matting",
    "images": "seg.data.formats.images",
}


def scan(fmt: str, root: str | Path, name: str, **options: Any) -> list[Record]:
    """The records of one source.

    Args:
        fmt: One of :data:`FORMATS`.
        root: The dataset's root folder.
        name: Source name, the first part of every record id.
        **options: The format's own options.

    Raises:
        DatasetError: For an unknown format, a missing root or a layout the format cannot read.
    """
    if fmt not in FORMATS:
        raise DatasetError(
            f"Unknown dataset format {fmt!r} (source {name!r}); choose one of {sorted(FORMATS)}."
        )
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetError(
            f"Dataset root {str(root)!r} (source {name!r}, format {fmt}) does not exist or is not "
            "a folder; set data.root (or the source's root) to your dataset folder."
        )
    module = importlib.import_module(FORMATS[fmt])
    return module.scan(root, name=name, **options)
