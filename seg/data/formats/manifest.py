"""Manifest CSVs: per-sample split and attribute columns joined to a source's records.

A manifest has a header row and one row per sample. ``image`` (a path relative to the source root)
or ``id`` identifies the sample; ``split`` (train/val/test, may be empty) fixes its split; every
other column that is not bookkeeping (:data:`RESERVED`) is a categorical attribute such as
``skin_tone``, ``gender`` or ``region`` — the groups of the model card's breakdown.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
from pathlib import Path

from seg.data.records import DatasetError, Record

log = logging.getLogger(__name__)

SPLIT_NAMES = ("train", "val", "test")
# Columns that describe a file, not a group of people/conditions.
RESERVED = frozenset(
    {"id", "image", "mask", "width", "height", "split", "source", "original_id", "confidence"}
)


def read_manifest(path: str | Path) -> list[dict[str, str]]:
    """The rows of a manifest CSV.

    Raises:
        DatasetError: When the file is missing, empty, or has neither an ``id`` nor ``image`` column.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"Manifest {str(path)!r} does not exist.")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        if "id" not in columns and "image" not in columns:
            raise DatasetError(
                f"Manifest {path}: needs an 'id' or an 'image' column to join rows to samples; "
                f"found columns {columns}."
            )
        rows = [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    for line, row in enumerate(rows, start=2):
        split = row.get("split", "")
        if split and split not in SPLIT_NAMES:
            raise DatasetError(
                f"Manifest {path}, line {line}: split {split!r} is not one of {SPLIT_NAMES} "
                "(or empty for the seeded ratio split)."
            )
    return rows


def apply_manifest(records: list[Record], path: str | Path, root: Path) -> list[Record]:
    """Records with split and attributes from a manifest (rows joined by ``image`` path relative
    to ``root``, else by ``id``). Rows that match no record are counted and logged."""
    rows = read_manifest(path)
    by_image = {_key(root, r.image): r for r in records}
    by_id = {r.id: r for r in records}
    updated: dict[str, Record] = {}
    unmatched = []
    for row in rows:
        record = None
        if row.get("image"):
            record = by_image.get(_key(root, root / row["image"]))
        if record is None and row.get("id"):
            record = by_id.get(row["id"])
        if record is None:
            unmatched.append(row.get("image") or row.get("id"))
            continue
        attributes = {k: v for k, v in row.items() if k not in RESERVED and v != ""}
        updated[record.id] = dataclasses.replace(
            record, split=row.get("split") or record.split, attributes=attributes
        )
    if unmatched:
        log.warning(
            "Manifest %s: %d of %d rows match no sample of %s (e.g. %s); they are ignored.",
            path,
            len(unmatched),
            len(rows),
            root,
            ", ".join(map(str, unmatched[:3])),
        )
    return [updated.get(r.id, r) for r in records]


def _key(root: Path, path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).resolve().as_posix()
