"""Temporal smoothing of probability maps across the frames of one video, with scene-cut reset.

Two blends of the current probabilities ``p`` with the previous *smoothed* map ``prev``:

* ``ema``: ``p' = a * p + (1 - a) * prev`` (``a`` = ``weight``, the share of the new frame).
* ``uncertainty``: MediaPipe's ``SegmentationSmoothingCalculator``
  (``mediapipe/calculators/image/segmentation_smoothing_calculator.cc``)::

      t = p - 0.5;  x = t * t
      u = 1 - min(1, x * (c1 + x * (c2 + x * (c3 + x * (c4 + x * c5)))))
      p' = p + (prev - p) * (u * combine_with_previous_ratio)

  with ``c1..c5 = 5.68842, -0.748699, -57.8051, 291.309, -624.717``, a polynomial in ``(p-0.5)^2``
  that approximates ``clamp(1 - (1 - H(p))^2, 0, 1)`` with ``H(p) = 1 + (p log p + (1-p)
  log(1-p)) / log 2`` (their comment). ``u`` is 1 at ``p = 0.5`` and ~4e-5 at ``p`` = 0 or 1:
  confident pixels follow the new frame (no ghosting of motion), unsure ones (the flickering
  edge) lean on the history. MediaPipe feeds back the previous smoothed mask, as here.

The state resets to the current frame (the output is ``p``) on the first call, when the map's
size changes, and on a *scene cut*: the mean absolute difference of consecutive frames, as
``36 x 64`` grey thumbnails in ``[0, 1]``, above ``scene_cut``. Without frames there is no cut
detection (size changes still reset).
"""

from __future__ import annotations

import cv2
import numpy as np

from seg.resize import resize_image

TEMPORAL_MODES = ("none", "ema", "uncertainty")
THUMBNAIL_HW = (36, 64)
_C1, _C2, _C3, _C4, _C5 = (np.float32(c) for c in (5.68842, -0.748699, -57.8051, 291.309, -624.717))


def mediapipe_uncertainty(probs: np.ndarray) -> np.ndarray:
    """MediaPipe's per-pixel uncertainty of a probability map: 1 at 0.5, ~0 at 0 and 1."""
    t = probs - np.float32(0.5)
    x = t * t
    poly = x * (_C1 + x * (_C2 + x * (_C3 + x * (_C4 + x * _C5))))
    return np.float32(1.0) - np.minimum(poly, np.float32(1.0))


def uncertainty_blend(probs: np.ndarray, previous: np.ndarray, ratio: float) -> np.ndarray:
    """``p + (prev - p) * u(p) * ratio`` (MediaPipe's blend, see the module docstring)."""
    return probs + (previous - probs) * (mediapipe_uncertainty(probs) * np.float32(ratio))


def ema_blend(probs: np.ndarray, previous: np.ndarray, weight: float) -> np.ndarray:
    """``weight * p + (1 - weight) * prev``."""
    return cv2.addWeighted(probs, weight, previous, 1.0 - weight, 0.0)


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """A ``36 x 64`` grey float32 thumbnail in ``[0, 1]`` of a ``uint8`` frame: RGB, or grey at
    any size (cheapest: the processor passes the grey frame at the probabilities' size)."""
    small = resize_image(frame, *THUMBNAIL_HW)
    if small.ndim == 3:
        small = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    return small.astype(np.float32) * np.float32(1 / 255)


class TemporalSmoother:
    """Stateful blend of each probability map with the previous smoothed one.

    Args:
        mode: ``none``, ``ema`` or ``uncertainty`` (see the module docstring).
        weight: ``ema``: share of the new frame, in ``(0, 1]``.
        ratio: ``uncertainty``: MediaPipe's ``combine_with_previous_ratio``, in ``[0, 1]``.
        scene_cut: Mean absolute grey difference of consecutive thumbnails above which the
            state resets; 0 disables cut detection.

    Attributes:
        last_reset: Whether the latest call started from no history (first frame, size change,
            scene cut or after :meth:`reset`).
    """

    def __init__(self, mode: str, weight: float, ratio: float, scene_cut: float) -> None:
        self.mode = mode
        self.weight = weight
        self.ratio = ratio
        self.scene_cut = scene_cut
        self._previous: np.ndarray | None = None
        self._thumb: np.ndarray | None = None
        self.last_reset = True

    @property
    def detects_cuts(self) -> bool:
        """Whether frames are looked at (smoothing on and ``scene_cut > 0``)."""
        return self.mode != "none" and self.scene_cut > 0

    def reset(self) -> None:
        """Forget the history (a new video or stream)."""
        self._previous = None
        self._thumb = None

    def _is_cut(self, probs: np.ndarray, thumb: np.ndarray | None) -> bool:
        if self._previous is None or self._previous.shape != probs.shape:
            return True
        if thumb is None or self._thumb is None:
            return False
        return float(cv2.norm(thumb, self._thumb, cv2.NORM_L1)) / thumb.size > self.scene_cut

    def __call__(self, probs: np.ndarray, frame: np.ndarray | None = None) -> np.ndarray:
        """The smoothed map of ``probs`` (``H x W`` float32); ``frame`` (``uint8`` RGB or grey,
        any size) feeds the scene-cut detector."""
        if self.mode == "none":
            return probs
        thumb = thumbnail(frame) if frame is not None and self.scene_cut > 0 else None
        self.last_reset = self._is_cut(probs, thumb)
        if self.last_reset:
            out = probs.copy()
        elif self.mode == "ema":
            out = ema_blend(probs, self._previous, self.weight)
        else:
            out = uncertainty_blend(probs, self._previous, self.ratio)
        self._previous, self._thumb = out, thumb
        return out.copy()  # the caller may write into what it gets; the history stays intact
