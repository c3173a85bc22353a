"""Motion: the person's per-frame pose and the camera's pan, zoom and shake in clips.

A clip keeps one person and background; the person sways, nods, drifts, blinks, talks and moves
raised hands, and the camera views a moving window of the (larger) background canvas.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Pose:
    """Per-frame motion of a person (offsets in head units, angles in radians).

    Attributes:
        dx: Horizontal head offset.
        dy: Vertical head offset.
        tilt: Extra head tilt.
        lean: Extra body lean.
        yaw: Extra head turn.
        hand_t: Time, drives waving.
        mouth_open: Mouth opening in ``[0, 1]`` (talking).
        blink: Eyes closed.
    """

    dx: float = 0.0
    dy: float = 0.0
    tilt: float = 0.0
    lean: float = 0.0
    yaw: float = 0.0
    hand_t: float = 0.0
    mouth_open: float = 0.0
    blink: bool = False


def sample_motion(
    rng: np.random.Generator,
) -> Callable[[int], tuple[Pose, float, tuple[float, float]]]:
    """Samples smooth, bounded person and camera motion.

    Every term is a sinusoid of the frame index: fast ones (sway, nod, tilt, talking, shake) and
    slow ones (drift, camera pan and zoom), so clips of any length stay in frame and inside the
    background margin.

    Args:
        rng: Random generator.

    Returns:
        ``motion(t) -> (pose, zoom, shift)`` for frame index ``t``: the person's pose, the
        camera zoom factor and the camera shift (fractions of the frame width and height).
    """
    fast = rng.uniform(0.04, 0.12, size=6)  # cycles per frame
    slow = rng.uniform(0.005, 0.02, size=5)
    ph = rng.uniform(0, 2 * math.pi, size=11)
    sway, nod = rng.uniform(0.03, 0.25), rng.uniform(0.0, 0.12)  # head units
    tilt, lean = rng.uniform(0.0, 0.08), rng.uniform(0.0, 0.03)  # radians
    drift = rng.uniform(0.0, 0.4, size=2)  # head units
    pan = rng.uniform(0.0, 0.03, size=2)  # fraction of the frame
    zoom = rng.uniform(0.0, 0.05)
    shake = rng.uniform(0.0, 0.003)
    talk = rng.random() < 0.5
    blink_period, blink_phase = int(rng.integers(25, 60)), int(rng.integers(0, 60))

    def at(t: int) -> tuple[Pose, float, tuple[float, float]]:
        def wave(i: int) -> float:
            return math.sin(2 * math.pi * fast[i] * t + ph[i])

        def drift_wave(i: int) -> float:
            return math.sin(2 * math.pi * slow[i] * t + ph[6 + i])

        pose = Pose(
            dx=sway * wave(0) + drift[0] * drift_wave(0),
            dy=nod * wave(1) + drift[1] * drift_wave(1),
            tilt=tilt * wave(2),
            lean=lean * wave(3),
            yaw=0.1 * wave(4),
            hand_t=float(t),
            mouth_open=max(0.0, wave(5)) if talk else 0.0,
            blink=(t + blink_phase) % blink_period == 0,
        )
        shift = (
            pan[0] * drift_wave(2) + shake * math.sin(1.7 * t + ph[0]),
            pan[1] * drift_wave(3) + shake * math.sin(2.3 * t + ph[1]),
        )
        return pose, 1.0 + zoom * drift_wave(4), shift

    return at


def camera_view(
    canvas: np.ndarray, zoom: float, shift: tuple[float, float], out: np.ndarray
) -> np.ndarray:
    """Crops/zooms the background canvas to the output frame, into float32 ``out``.

    Args:
        canvas: ``H' x W' x 3`` uint8 background canvas, centred on the frame.
        zoom: Camera zoom factor about the frame centre.
        shift: Camera shift, fractions of the frame width and height.
        out: ``H x W x 3`` float32 output, overwritten.

    Returns:
        ``out``.
    """
    h, w = out.shape[:2]
    ch, cw = canvas.shape[:2]
    if (ch, cw) == (h, w) and zoom == 1.0 and shift == (0.0, 0.0):
        np.copyto(out, canvas)
        return out
    mx, my = (cw - w) / 2, (ch - h) / 2
    # output p = c + zoom * (q - m - c) + shift, for canvas pixel q
    m = np.array(
        [
            [zoom, 0.0, w / 2 - zoom * (mx + w / 2) + shift[0] * w],
            [0.0, zoom, h / 2 - zoom * (my + h / 2) + shift[1] * h],
        ]
    )
    view = cv2.warpAffine(canvas, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    np.copyto(out, view)
    return out
