"""Converting any dataset config into the ``folder`` layout plus ``manifest.csv``.

Real datasets keep their original files (images copied byte for byte when JPEG/PNG/WebP, masks
written as normalised ``{0, 255}`` PNGs, or 8-bit mattes with ``soft``); datasets without files
(the synthetic set) are written as PNG frames. The manifest has ``id, image, mask, width, height,
split, source, original_id`` and every attribute column (the dataset's own, plus a user CSV joined
by ``id``), so evaluation can break results down by group.
"""

from __future__ import annotations

import csv
import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from seg.data.dataset import SegDataset, as_seg_dataset
from seg.data.formats.manifest import RESERVED, SPLIT_NAMES, read_manifest
from seg.data.image_io import load_pair
from seg.data.portrait_dataset import PortraitDataset
from seg.data.sample import to_frames
from seg.data.synthetic_dataset import SyntheticPortraitDataset
from seg.errors import DataError, OutputExistsError

log = logging.getLogger(__name__)

COPY_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
MANIFEST_COLUMNS = ["id", "image", "mask", "width", "height", "split", "source", "original_id"]


def _file_stem(sample_id: str, drop_source: bool) -> str:
    parts = sample_id.split("/")
    return "__".join(parts[1:] if drop_source and len(parts) > 1 else parts)


def _mask_png(mask: np.ndarray) -> Image.Image:
    if mask.dtype == np.uint8:
        return Image.fromarray((mask > 0).astype(np.uint8) * 255)
    return Image.fromarray(np.round(mask.clip(0, 1) * 255).astype(np.uint8))


def _frame(dataset: SegDataset, index: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The ``(image, mask)`` of a sample without files: the synthetic set's raw frame, or any
    other dataset's sample turned back into ``H x W x 3`` uint8 and ``H x W`` (None: no mask)."""
    if isinstance(dataset, SyntheticPortraitDataset):
        return dataset.raw(index)
    sample = dataset[index]
    image = to_frames(torch.as_tensor(sample["image"])[None])[0]
    mask = sample.get("mask")
    if mask is not None:
        mask = torch.as_tensor(mask).detach().cpu().float().reshape(image.shape[:2]).numpy()
    return image, mask


def prepare_dataset(
    splits: Mapping[str, Dataset],
    out_dir: str | Path,
    extra_attributes: str | Path | None = None,
) -> dict[str, Any]:
    """Write every sample of ``splits`` into ``out_dir/images``, ``out_dir/masks`` and
    ``out_dir/manifest.csv``.

    Args:
        splits: ``{split: dataset}``; a :class:`~seg.data.portrait_dataset.PortraitDataset` is
            copied from its files at their original size, any other dataset (synthetic, or a plain
            torch Dataset seen through :func:`~seg.data.dataset.as_seg_dataset`) is written from
            its frames.
        out_dir: The output folder (created; must not already hold a manifest).
        extra_attributes: A CSV with an ``id`` column (the input's sample ids) and attribute
            columns, joined into the manifest.

    Returns:
        ``{"samples": n, "per_split": {...}, "manifest": path, "attributes": [...]}``.

    Raises:
        FileExistsError: When ``out_dir`` already holds a manifest.
        DataError: For a sample without a mask (the data must be labelled).
    """
    out = Path(out_dir)
    datasets = {split: as_seg_dataset(dataset, split) for split, dataset in splits.items()}
    if (out / "manifest.csv").exists():
        raise OutputExistsError(f"{out}/manifest.csv exists; choose an empty --output folder.")
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(parents=True, exist_ok=True)
    extra: dict[str, dict[str, str]] = {}
    if extra_attributes is not None:
        for row in read_manifest(extra_attributes):
            if row.get("id"):
                extra[row["id"]] = {k: v for k, v in row.items() if k not in RESERVED and v}
    sources = {
        record.source
        for dataset in datasets.values()
        if isinstance(dataset, PortraitDataset)
        for record in dataset.records
    }
    drop_source = len(sources) == 1  # synthetic ids (<split>/<n>) keep their split
    rows: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for split, dataset in datasets.items():
        ids = dataset.sample_ids()
        attributes = dataset.attributes()
        portrait = dataset if isinstance(dataset, PortraitDataset) else None
        for index, sample_id in enumerate(ids):
            stem = _file_stem(sample_id, drop_source)
            if portrait is not None:
                record = portrait.records[index]
                image, mask = load_pair(record, portrait.specs[record.source])
                suffix = record.image.suffix.lower()
                if suffix in COPY_SUFFIXES:
                    image_name = f"{stem}{'.jpg' if suffix == '.jpeg' else suffix}"
                    shutil.copyfile(record.image, out / "images" / image_name)
                else:
                    image_name = f"{stem}.png"
                    Image.fromarray(image).save(out / "images" / image_name)
                source = record.source
            else:
                image, mask = _frame(dataset, index)
                image_name = f"{stem}.png"
                Image.fromarray(np.asarray(image)).save(out / "images" / image_name)
                source = "synthetic" if isinstance(dataset, SyntheticPortraitDataset) else "data"
            if mask is None:
                raise DataError(f"{sample_id} has no mask: prepare_dataset needs labelled data.")
            _mask_png(np.asarray(mask)).save(out / "masks" / f"{stem}.png")
            rows.append(
                {
                    "id": f"{out.resolve().name}/{stem}",
                    "image": f"images/{image_name}",
                    "mask": f"masks/{stem}.png",
                    "width": image.shape[1],
                    "height": image.shape[0],
                    "split": split if split in SPLIT_NAMES else "",  # e.g. a pool: ratio split
                    "source": source,
                    "original_id": sample_id,
                    **attributes[index],
                    **extra.get(sample_id, {}),
                }
            )
            counts[split] = counts.get(split, 0) + 1
    attribute_columns = sorted({k for row in rows for k in row} - set(MANIFEST_COLUMNS))
    with (out / "manifest.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS + attribute_columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    log.info("Wrote %d samples to %s (%s).", len(rows), out, counts)
    return {
        "samples": len(rows),
        "per_split": counts,
        "manifest": str(out / "manifest.csv"),
        "attributes": attribute_columns,
    }
