"""``matting`` format: images with alpha mattes (P3M-10k, AISegment, PPM-100 style).

Either two folders matched by file stem — ``image_dir`` and ``matte_dir``, where a matte is a grey
image or an RGBA file whose alpha channel is the matte (AISegment's ``matting/*.png``) — or, with
``matte_dir: null``, RGBA images that carry their own matte. Mattes become hard masks by
``data.threshold`` or soft targets with ``data.soft=true``. Files are matched by their stem alone
(sub-folder names may differ between the two trees, as in AISegment), so stems must be unique.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from seg.data.formats.common import split_dirs, stem_index, warn_orphans
from seg.data.formats.manifest import apply_manifest
from seg.data.image_io import IMAGE_SUFFIXES, MASK_SUFFIXES, find_files
from seg.data.records import DatasetError, Record


def scan(
    root: Path,
    name: str,
    image_dir: str = "image",
    matte_dir: str | None = "matte",
    splits: Mapping[str, str] | None = None,
    manifest: str | None = "manifest.csv",
) -> list[Record]:
    """Records of a matting dataset (ids ``<name>/<split folder>/<image path under image_dir>``).

    Args:
        root: Dataset root.
        name: Source name.
        image_dir: Image folder under the root (or under each split folder).
        matte_dir: Matte folder; None when the images are RGBA with the matte as alpha.
        splits: ``{split: sub-folder}`` (e.g. ``{train: train, val: validation/P3M-500-P}``);
            default: ``train/ val/ test/`` sub-folders when present, else one pool.
        manifest: Manifest CSV relative to the root, read when it exists.
    """
    records = []
    for split, folder in split_dirs(root, splits, image_dir).items():
        image_root = folder / image_dir
        image_files = find_files(image_root, IMAGE_SUFFIXES)
        prefix = f"{name}/{split}/" if split else f"{name}/"
        if matte_dir is None:
            for path in image_files:
                rel = path.relative_to(image_root).with_suffix("").as_posix()
                records.append(Record(prefix + rel, path, None, "image_alpha", name, split))
            continue
        matte_root = folder / matte_dir
        if not matte_root.is_dir():
            raise DatasetError(
                f"Matte folder {matte_root} does not exist; set data.matte_dir (or null when the "
                "images are RGBA with the matte in their alpha channel)."
            )
        images = stem_index(image_files, image_root, by="name")
        mattes = stem_index(find_files(matte_root, MASK_SUFFIXES), matte_root, by="name")
        for stem, path in images.items():
            rel = path.relative_to(image_root).with_suffix("").as_posix()
            matte = mattes.get(stem, matte_root / f"{stem}.png")
            records.append(Record(prefix + rel, path, matte, "alpha", name, split))
        warn_orphans("mattes", sorted(set(mattes) - set(images)), matte_root)
    records.sort(key=lambda r: r.id)
    if manifest and (root / manifest).is_file():
        records = apply_manifest(records, root / manifest, root)
    return records
