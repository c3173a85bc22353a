"""The one resize of seg: frames, masks and probability maps between a frame's size and a model's.

Three policies map a frame of any size onto ``height x width`` (training data and inference use
the same ones, so a model sees at inference what it saw in training):

* ``fit`` scales the whole frame inside ``height x width`` and pads the rest (black, background), so
  nothing of the person is cut (letterbox);
* ``cover`` scales to fill and crops the centre;
* ``stretch`` resizes to the exact size, changing the aspect ratio.

Images use area interpolation when shrinking (bilinear when enlarging). Masks are resized as
fractions: a hard ``uint8`` mask is thresholded at 0.5 afterwards and a soft ``float`` one stays
soft (probability maps are soft masks), which keeps edges smooth where nearest-neighbour would
alias them. :func:`unfit` maps a model's output back onto the frame: the inverse placement, with
pixels a ``cover`` crop never showed the model set to 0 (background).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from seg.errors import ConfigError

RESIZE_MODES = ("fit", "cover", "stretch")


def check_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`RESIZE_MODES`, else a :class:`ConfigError`."""
    if mode not in RESIZE_MODES:
        raise ConfigError(f"resize must be one of {', '.join(RESIZE_MODES)}; got {mode!r}.")
    return mode


def resize_image(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an ``H x W [x C]`` image (``uint8`` or float) to ``height x width``: area
    interpolation when shrinking both sides, bilinear otherwise; unchanged when the size fits."""
    if array.shape[:2] == (height, width):
        return array
    shrink = width <= array.shape[1] and height <= array.shape[0]
    return cv2.resize(
        array, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    )


def resize_probs(
    probs: np.ndarray, height: int, width: int, out: np.ndarray | None = None
) -> np.ndarray:
    """Resize a float32 ``H x W`` map (probabilities, an alpha, filter coefficients) to
    ``height x width`` as :func:`resize_image` does (area when shrinking both sides, bilinear
    otherwise; values stay in the input's range, no clip needed), into ``out`` when given.

    ``out`` (a C-contiguous float32 ``height x width`` array, reused frame after frame) saves the
    allocation of a fresh output: with several 720p float maps alive, each fresh one costs a pass of
    page faults, several times the resize itself. Without ``out`` a map of the right size is
    returned as is.
    """
    if out is None:
        return resize_image(probs, height, width)
    if out.shape != (height, width) or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float32 {height} x {width} array")
    if probs.shape[:2] == (height, width):
        np.copyto(out, probs)
        return out
    shrink = width <= probs.shape[1] and height <= probs.shape[0]
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(probs, (width, height), dst=out, interpolation=interpolation)


def resize_mask(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an ``H x W`` mask: ``uint8`` ``{0, 1}`` stays hard (fraction >= 0.5), float stays
    soft in ``[0, 1]`` (a probability map)."""
    if mask.shape[:2] == (height, width):
        return mask
    soft = mask.dtype != np.uint8
    out = resize_image(mask.astype(np.float32), height, width)
    return out.clip(0.0, 1.0) if soft else (out >= 0.5).astype(np.uint8)


@dataclass(frozen=True)
class Placement:
    """Where a frame lands on the model's canvas.

    Attributes:
        height: Height of the frame after scaling.
        width: Width of the frame after scaling.
        top: Row of the canvas the scaled frame starts at (negative: rows cropped by ``cover``).
        left: Column it starts at (negative: columns cropped).
    """

    height: int
    width: int
    top: int
    left: int


def placement(frame_hw: tuple[int, int], height: int, width: int, mode: str) -> Placement:
    """How ``mode`` places a frame of ``frame_hw`` on a ``height x width`` canvas."""
    check_mode(mode)
    h, w = frame_hw
    if mode == "stretch" or (h, w) == (height, width):
        return Placement(height, width, 0, 0)
    scale = (min if mode == "fit" else max)(height / h, width / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    if mode == "fit":  # centred, padded
        return Placement(nh, nw, (height - nh) // 2, (width - nw) // 2)
    return Placement(nh, nw, -((nh - height) // 2), -((nw - width) // 2))  # centre crop


def _paste(array: np.ndarray, where: Placement, height: int, width: int) -> np.ndarray:
    """``array`` (already ``where.height x where.width``) on a zero ``height x width`` canvas at
    ``where``, cropped where it sticks out."""
    canvas = np.zeros((height, width, *array.shape[2:]), array.dtype)
    top, left = max(0, where.top), max(0, where.left)
    src_top, src_left = top - where.top, left - where.left
    rows = min(height - top, where.height - src_top)
    cols = min(width - left, where.width - src_left)
    canvas[top : top + rows, left : left + cols] = array[
        src_top : src_top + rows, src_left : src_left + cols
    ]
    return canvas


def fit_frame(
    image: np.ndarray, mask: np.ndarray | None, height: int, width: int, mode: str = "fit"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Resize ``image`` (``H x W x 3`` uint8) and ``mask`` (``H x W``, or None) to
    ``height x width`` with the resize ``mode``.

    Raises:
        ConfigError: For an unknown ``mode``.
    """
    where = placement(image.shape[:2], height, width, mode)
    if (where.height, where.width) == image.shape[:2] and (height, width) == image.shape[:2]:
        return image, mask
    image = resize_image(image, where.height, where.width)
    mask = None if mask is None else resize_mask(mask, where.height, where.width)
    if (where.height, where.width) != (height, width):
        image = _paste(image, where, height, width)
        mask = None if mask is None else _paste(mask, where, height, width)
    return np.ascontiguousarray(image), None if mask is None else np.ascontiguousarray(mask)


def unfit(prob: np.ndarray, frame_hw: tuple[int, int], mode: str) -> np.ndarray:
    """Map an ``h x w`` model output (probabilities) back onto a frame of ``frame_hw``: the inverse
    of :func:`fit_frame` with the same ``mode`` (a letterbox's padding is dropped; what a ``cover``
    crop cut off is 0, background)."""
    height, width = prob.shape[:2]
    where = placement(frame_hw, height, width, mode)
    # the scaled frame's region of the canvas: a crop of it (fit), or it padded with 0 (cover)
    region = _paste(
        prob, Placement(height, width, -where.top, -where.left), where.height, where.width
    )
    return resize_mask(region, *frame_hw)
