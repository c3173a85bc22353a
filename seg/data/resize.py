"""Fitting real photos of any size to the training resolution (before augmentation).

``fit`` scales the whole frame inside ``height x width`` and pads the rest (black, background),
so nothing of the person is cut; ``cover`` scales to fill and crops the centre; ``stretch``
resizes to the exact size, changing the aspect ratio. Images use area interpolation when shrinking
(bilinear when enlarging); masks are resized as fractions and thresholded at 0.5 (soft targets stay
soft), which keeps edges smooth where nearest-neighbour would alias them.
"""

from __future__ import annotations

import cv2
import numpy as np

RESIZE_MODES = ("fit", "cover", "stretch")


def _resize(array: np.ndarray, width: int, height: int) -> np.ndarray:
    shrink = width <= array.shape[1] and height <= array.shape[0]
    return cv2.resize(
        array, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    )


def _resize_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    soft = mask.dtype != np.uint8
    out = _resize(mask.astype(np.float32), width, height)
    return out.clip(0.0, 1.0) if soft else (out >= 0.5).astype(np.uint8)


def fit_frame(
    image: np.ndarray, mask: np.ndarray | None, height: int, width: int, mode: str = "fit"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Resize ``image`` (``H x W x 3`` uint8) and ``mask`` (``H x W``) to ``height x width``.

    Raises:
        ValueError: For an unknown ``mode``.
    """
    if mode not in RESIZE_MODES:
        raise ValueError(f"data.resize must be one of {RESIZE_MODES}, got {mode!r}.")
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image, mask
    if mode == "stretch":
        return _resize(image, width, height), (
            None if mask is None else _resize_mask(mask, width, height)
        )
    scale = (min if mode == "fit" else max)(height / h, width / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    image = _resize(image, nw, nh)
    mask = None if mask is None else _resize_mask(mask, nw, nh)
    if mode == "cover":
        top, left = (nh - height) // 2, (nw - width) // 2
        image = image[top : top + height, left : left + width]
        mask = None if mask is None else mask[top : top + height, left : left + width]
        return np.ascontiguousarray(image), None if mask is None else np.ascontiguousarray(mask)
    top, left = (height - nh) // 2, (width - nw) // 2
    canvas = np.zeros((height, width, 3), np.uint8)
    canvas[top : top + nh, left : left + nw] = image
    if mask is not None:
        padded = np.zeros((height, width), mask.dtype)
        padded[top : top + nh, left : left + nw] = mask
        mask = padded
    return canvas, mask
