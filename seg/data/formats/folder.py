"""``folder`` format: ``<root>/images/*`` and ``<root>/masks/*.png`` matched by file stem.

Sub-folders are mirrored (``images/a/x.jpg`` <-> ``masks/a/x.png``). Splits come from
``<root>/{train,val,test}/images|masks`` when present, from a ``split`` column of
``<root>/manifest.csv`` (which also supplies attribute columns), or from the seeded ratio split.
This is also the layout ``scripts/prepare_dataset.py`` and ``scripts/pseudo_label.py`` write.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from seg.data.formats.common import split_dirs, stem_index, warn_orphans
from seg.data.formats.manifest import apply_manifest
from seg.data.image_io import IMAGE_SUFFIXES, MASK_SUFFIXES, find_files
from seg.data.records import Record


def scan(
    root: Path,
    name: str,
    image_dir: str = "images",
    mask_dir: str = "masks",
    splits: Mapping[str, str] | None = None,
    manifest: str | None = "manifest.csv",
) -> list[Record]:
    """Records of a folder dataset.

    Args:
        root: Dataset root.
        name: Source name (first part of the ids ``<name>/<split folder>/<stem>``).
        image_dir: Image folder name under the root (or under each split folder).
        mask_dir: Mask folder name.
        splits: ``{split: sub-folder}`` holding ``image_dir``/``mask_dir`` (default: detect
            ``train/``, ``val/``, ``test/``).
        manifest: Manifest CSV relative to the root, read when it exists (None: never).

    Returns:
        One record per image, sorted by id; an image without a mask gets the mask path it should
        have, so the check pass reports it as missing.
    """
    records = []
    for split, folder in split_dirs(root, splits, image_dir).items():
        images = stem_index(find_files(folder / image_dir, IMAGE_SUFFIXES), folder / image_dir)
        mask_folder = folder / mask_dir
        masks = (
            stem_index(find_files(mask_folder, MASK_SUFFIXES), mask_folder)
            if mask_folder.is_dir()
            else {}
        )
        prefix = f"{name}/{split}/" if split else f"{name}/"
        for stem, image in images.items():
            mask = masks.get(stem, mask_folder / f"{stem}.png")
            records.append(Record(f"{prefix}{stem}", image, mask, "mask", name, split))
        warn_orphans("masks", sorted(set(masks) - set(images)), mask_folder)
    records.sort(key=lambda r: r.id)
    if manifest and (root / manifest).is_file():
        records = apply_manifest(records, root / manifest, root)
    return records
