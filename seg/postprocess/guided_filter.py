"""Edge refinement of a mask guided by its frame: He et al.'s guided filter, in its fast form.

The guided filter (He, Sun, Tang, "Guided Image Filtering", ECCV 2010 / TPAMI 2013) fits, in every
``(2r+1)^2`` window, the mask as a linear function of the grey guide ``I``: ``p ~ a * I + b`` with
``a = cov(I, p) / (var(I) + eps)`` and ``b = mean(p) - a * mean(I)``; the output is
``q = mean(a) * I + mean(b)`` (window means by ``cv2.boxFilter``). Where the frame has an edge near
the mask's edge, ``q`` takes the frame's edge; in flat regions (``var(I) << eps``) it is the
smoothed mask. ``eps`` is on the variance of ``I`` in ``[0, 1]``: an edge whose local standard
deviation is well above ``sqrt(eps)`` is followed.

When the mask is at a lower resolution than the frame (a 144 x 256 model output on a 720p frame)
this is the *fast guided filter* (He & Sun, "Fast Guided Filter", arXiv:1505.00996): ``a`` and
``b`` are computed at the mask's resolution against the guide downscaled to it, with the radius
scaled per axis, then upsampled bilinearly to the frame's size and applied there,
``q = a * I + b``, with ``I`` the full-resolution grey frame. The output edge then follows the
frame's edge at full resolution for the cost of a few low-resolution box filters and a handful of
full-resolution passes (grey conversion, two upsamples, one multiply-accumulate, a clip).

Why no joint bilateral: ``cv2.bilateralFilter`` is not joint (it cannot take the frame as the
range guide), the joint version lives in ``cv2.ximgproc``, which opencv-python-headless lacks, and a
NumPy joint bilateral is one shifted, weighted pass per window offset (81 full-frame passes for a
radius of 4 px: tens of ms per 720p frame). The guided filter gives the same edge-aware behaviour in
O(1) per pixel for any radius.
"""

from __future__ import annotations

import cv2
import numpy as np

from seg.resize import resize_image, resize_probs

REFINE_MODES = ("none", "guided")


def _box(image: np.ndarray, ksize: tuple[int, int]) -> np.ndarray:
    return cv2.boxFilter(image, -1, ksize, borderType=cv2.BORDER_REFLECT)


def guided_coefficients(
    guide: np.ndarray, mask: np.ndarray, radius_yx: tuple[int, int], eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """The window-averaged linear coefficients ``(mean(a), mean(b))`` of the guided filter.

    Args:
        guide: ``h x w`` float32 grey guide in ``[0, 1]``.
        mask: ``h x w`` float32 mask.
        radius_yx: Window radius per axis ``(ry, rx)``, pixels of these arrays.
        eps: Regularisation on the guide's variance.

    Returns:
        ``(a, b)``, both ``h x w`` float32: the filtered mask is ``a * guide + b``.
    """
    ksize = (2 * radius_yx[1] + 1, 2 * radius_yx[0] + 1)
    mean_i, mean_p = _box(guide, ksize), _box(mask, ksize)
    cov = _box(guide * mask, ksize) - mean_i * mean_p
    var = _box(guide * guide, ksize) - mean_i * mean_i
    a = cov / (var + np.float32(eps))
    b = mean_p - a * mean_i
    return _box(a, ksize), _box(b, ksize)


def grey_of(frame: np.ndarray) -> np.ndarray:
    """The ``H x W`` uint8 grey image of an RGB ``uint8`` frame (a grey one is returned as is)."""
    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def guided_refine(
    mask: np.ndarray,
    frame: np.ndarray,
    radius: float,
    eps: float,
    out: np.ndarray | None = None,
    work: np.ndarray | None = None,
    small_grey: np.ndarray | None = None,
) -> np.ndarray:
    """Refine ``mask`` on ``frame``'s edges and bring it to the frame's size.

    Args:
        mask: ``h x w`` float32 mask in ``[0, 1]`` at any resolution.
        frame: ``H x W x 3`` uint8 RGB frame, or its ``H x W`` uint8 grey image.
        radius: Window radius in pixels of the frame (output) resolution; at least one pixel of
            the mask's resolution is used.
        eps: Regularisation on the grey guide's variance (guide in ``[0, 1]``).
        out: Optional float32 ``H x W`` array to write the result into.
        work: Optional float32 ``H x W`` scratch array (reused frame to frame, it saves the page
            faults of a fresh one).
        small_grey: The grey frame already downscaled to the mask's size, if the caller has it.

    Returns:
        ``H x W`` float32 in ``[0, 1]`` (``out`` when given).
    """
    grey = grey_of(frame)
    height, width = grey.shape
    if mask.shape[0] > height or mask.shape[1] > width:  # a finer mask: filter at frame size
        mask = resize_image(mask, height, width)
    h, w = mask.shape
    if small_grey is None or small_grey.shape != (h, w):
        small_grey = resize_image(grey, h, w)
    guide = small_grey.astype(np.float32) * np.float32(1 / 255)
    radius_yx = (max(1, round(radius * h / height)), max(1, round(radius * w / width)))
    a, b = guided_coefficients(guide, mask, radius_yx, eps)
    # q = a * I + b at full size, in place
    a_full = resize_probs(a * np.float32(1 / 255), height, width, out=work)  # I: the 0-255 grey
    cv2.multiply(a_full, grey, dst=a_full, dtype=cv2.CV_32F)
    refined = resize_probs(b, height, width, out=out)  # without out: b itself at the same size
    cv2.add(refined, a_full, dst=refined)
    return np.clip(refined, 0.0, 1.0, out=refined)
