"""``images`` format: a folder of unlabelled images (recursive), for badcase mining and
pseudo-labelling. Samples have no ``mask``; such a dataset cannot be trained on."""

from __future__ import annotations

from pathlib import Path

from seg.data.formats.manifest import apply_manifest
from seg.data.image_io import IMAGE_SUFFIXES, find_files
from seg.data.records import Record


def scan(root: Path, name: str, manifest: str | None = "manifest.csv") -> list[Record]:
    """One unlabelled record per image under ``root`` (id ``<name>/<relative path, no suffix>``)."""
    records = [
        Record(
            f"{name}/{path.relative_to(root).with_suffix('').as_posix()}", path, None, "mask", name
        )
        for path in find_files(root, IMAGE_SUFFIXES)
    ]
    if manifest and (root / manifest).is_file():
        records = apply_manifest(records, root / manifest, root)
    return records
