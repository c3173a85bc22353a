"""Small real-format datasets written to a tmp dir (images and masks of known content)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image


def portrait(height: int = 48, width: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A noisy RGB image with a bright ellipse 'person' and its {0,1} mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    cy, cx = height * rng.uniform(0.45, 0.6), width * rng.uniform(0.4, 0.6)
    mask = (((yy - cy) / (0.35 * height)) ** 2 + ((xx - cx) / (0.22 * width)) ** 2 <= 1).astype(
        np.uint8
    )
    image = rng.integers(0, 90, (height, width, 3), dtype=np.uint8)
    image[mask == 1] = np.clip(image[mask == 1] + 140, 0, 255)
    return image, mask


def write_folder(
    root: Path,
    n: int = 10,
    size: tuple[int, int] = (48, 64),
    mask_scale: int = 255,
    attributes: Sequence[dict[str, str]] | None = None,
    splits: Sequence[str] | None = None,
    ext: str = ".png",
) -> list[str]:
    """``root/images/s00.png`` + ``root/masks/s00.png`` (values {0, mask_scale}); optional
    ``manifest.csv`` with splits/attributes. Returns the stems."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    stems = [f"s{i:02d}" for i in range(n)]
    for i, stem in enumerate(stems):
        image, mask = portrait(*size, seed=i)
        Image.fromarray(image).save(root / "images" / f"{stem}{ext}")
        Image.fromarray(mask * mask_scale).save(root / "masks" / f"{stem}.png")
    if attributes is not None or splits is not None:
        with (root / "manifest.csv").open("w", newline="") as f:
            attrs = attributes or [{}] * n
            columns = ["image", "split", *sorted({k for a in attrs for k in a})]
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for i, stem in enumerate(stems):
                row = {"image": f"images/{stem}{ext}", **attrs[i]}
                row["split"] = splits[i] if splits else ""
                writer.writerow(row)
    return stems


def truncate(path: Path, keep: float = 0.5) -> None:
    """Cut a file to ``keep`` of its bytes (a truncated download)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
