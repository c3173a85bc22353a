"""Drawing: mask overlays, error maps, labelled tiles and contact sheets (RGB ``uint8``).

Every picture seg writes — training previews, worst-case sheets of an evaluation, badcase sheets of
mining, the review sheet of pseudo-labels — is put together from these pieces.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

GT_COLOUR = np.array([0, 200, 255], dtype=np.float32)  # RGB cyan-ish
PRED_COLOUR = np.array([255, 60, 200], dtype=np.float32)  # RGB magenta
FP_COLOUR = np.array([255, 40, 40], dtype=np.float32)  # false positive: red
FN_COLOUR = np.array([40, 120, 255], dtype=np.float32)  # false negative: blue


def overlay(
    image: np.ndarray, mask: np.ndarray, colour: np.ndarray, alpha: float = 0.5
) -> np.ndarray:
    """Tint ``mask`` pixels of an RGB uint8 image with ``colour`` and draw the mask contour."""
    out = image.astype(np.float32)
    m = mask.astype(bool)
    out[m] = (1 - alpha) * out[m] + alpha * colour
    out = np.ascontiguousarray(out.clip(0, 255).astype(np.uint8))
    contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, tuple(int(c) for c in colour), 1)
    return out


def error_map(image: np.ndarray, gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Darkened image with false positives in red and false negatives in blue."""
    out = (image.astype(np.float32) * 0.35).astype(np.float32)
    out[(pred == 1) & (gt == 0)] = FP_COLOUR
    out[(pred == 0) & (gt == 1)] = FN_COLOUR
    return out.astype(np.uint8)


def contact_sheet(
    images: np.ndarray, masks: np.ndarray, probs: np.ndarray, threshold: float = 0.5
) -> np.ndarray:
    """One row per frame: image | ground truth | prediction | errors (FP red, FN blue).

    Args:
        images: ``N x H x W x 3`` uint8 RGB.
        masks: ``N x H x W`` ground truth in ``{0, 1}``.
        probs: ``N x H x W`` foreground probabilities.
        threshold: Probability threshold of the predicted mask.

    Returns:
        An RGB uint8 image of ``N`` rows and 4 columns separated by 2-pixel gaps.
    """
    rows = []
    for image, gt, prob in zip(images, masks, probs, strict=True):
        pred = (prob >= threshold).astype(np.uint8)
        tiles = [
            image,
            overlay(image, gt, GT_COLOUR),
            overlay(image, pred, PRED_COLOUR),
            error_map(image, gt, pred),
        ]
        rows.append(image_row(tiles))
    hgap = np.full((2, rows[0].shape[1], 3), 255, np.uint8)
    return np.concatenate([r for row in rows for r in (row, hgap)][:-1], axis=0)


def label_tile(image: np.ndarray, text: str) -> np.ndarray:
    """``text`` in white on a dark strip at the top-left of an RGB uint8 tile."""
    out = np.ascontiguousarray(image.copy())
    scale = max(0.3, image.shape[0] / 400)
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    out[: th + base + 4, : tw + 4] = (out[: th + base + 4, : tw + 4] * 0.3).astype(np.uint8)
    cv2.putText(
        out, text, (2, th + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA
    )
    return out


def stack_rows(rows: list[np.ndarray]) -> np.ndarray:
    """Rows of different widths stacked with 2-pixel white gaps (padded white on the right)."""
    width = max(r.shape[1] for r in rows)
    padded = [
        np.concatenate([r, np.full((r.shape[0], width - r.shape[1], 3), 255, np.uint8)], axis=1)
        for r in rows
    ]
    gap = np.full((2, width, 3), 255, np.uint8)
    return np.concatenate([p for row in padded for p in (row, gap)][:-1], axis=0)


def label_strip(text: str, width: int) -> np.ndarray:
    """A white strip as wide as a sheet row with ``text`` in black."""
    scale = max(0.35, min(0.8, width / 1100))
    thickness = 1
    (_, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    strip = np.full((text_h + baseline + 6, width, 3), 255, np.uint8)
    cv2.putText(
        strip,
        text,
        (3, text_h + 3),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (0, 0, 0),
        thickness,
        cv2.LINE_AA,
    )
    return strip


def image_row(tiles: list[np.ndarray], gap: int = 2) -> np.ndarray:
    """Tiles of one height side by side, ``gap`` white pixels apart."""
    space = np.full((tiles[0].shape[0], gap, 3), 255, np.uint8)
    return np.concatenate([part for tile in tiles for part in (tile, space)][:-1], axis=1)


def write_rgb(path: str | Path, image: np.ndarray) -> Path:
    """Write an RGB ``uint8`` image (PNG/JPEG by suffix), creating folders.

    Raises:
        OSError: When OpenCV cannot write the file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f"Could not write {path}; check the folder is writable.")
    return path
