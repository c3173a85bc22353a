"""Helpers shared by the folder-based formats: indexing files by stem, manifest and splits."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from seg.data.formats.manifest import SPLIT_NAMES
from seg.data.records import DatasetError

log = logging.getLogger(__name__)


def stem_index(files: Sequence[Path], base: Path, by: str = "relative") -> dict[str, Path]:
    """Files keyed by stem: ``relative`` (path under ``base`` without suffix, e.g. ``a/b``) or
    ``name`` (file stem alone, for layouts whose image and mask sub-folders differ in name).

    Raises:
        DatasetError: When two files share a key (e.g. ``x.jpg`` and ``x.png``).
    """
    index: dict[str, Path] = {}
    for path in files:
        key = path.relative_to(base).with_suffix("").as_posix() if by == "relative" else path.stem
        if key in index:
            raise DatasetError(
                f"Two files share the name {key!r}: {index[key]} and {path}. Samples are matched "
                "by file stem; rename or remove one."
            )
        index[key] = path
    return index


def split_dirs(root: Path, splits: Mapping[str, str] | None, marker: str) -> dict[str | None, Path]:
    """Where each split's files are: ``{None: root}`` for one pool (the ratio split decides), or
    ``{split: root/<subdir>}`` from ``splits`` or from ``train/ val/ test/`` sub-folders that hold
    a ``marker`` folder (e.g. ``images``)."""
    if splits:
        out: dict[str | None, Path] = {}
        for split, sub in splits.items():
            if split not in SPLIT_NAMES:
                raise DatasetError(f"data splits: {split!r} is not one of {SPLIT_NAMES}.")
            folder = root / sub
            if not folder.is_dir():
                raise DatasetError(f"Split folder {folder} (split {split!r}) does not exist.")
            out[split] = folder
        return out
    if (root / marker).is_dir():
        return {None: root}
    found = {s: root / s for s in SPLIT_NAMES if (root / s / marker).is_dir()}
    if found:
        return found  # type: ignore[return-value]
    entries = sorted(p.name for p in root.iterdir())[:10]
    raise DatasetError(
        f"{root}: expected a '{marker}' folder (or train/{marker}, val/{marker}, test/{marker}); "
        f"found {entries or 'an empty folder'}."
    )


def warn_orphans(kind: str, orphans: Sequence[str], where: Path) -> None:
    """Log files that belong to no sample (e.g. masks without an image), with a count."""
    if orphans:
        log.warning(
            "%s: %d %s without a matching image are not used (e.g. %s).",
            where,
            len(orphans),
            kind,
            ", ".join(orphans[:3]),
        )
