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


# Scripted clip motions: what makes real segmenters flicker, one kind per evaluation clip.
CLIP_MOTIONS = (
    "still",  # sitting still: the hardest case for flicker (nothing moves, the mask must not)
    "turn_slow",  # slow head turns
    "turn_fast",  # fast head turns with a quick sway
    "wave",  # one or two hands raised and waved next to the face
    "shake",  # a hand-held camera: fast small jitter of the whole view
    "lighting",  # the light changes (switched, or clouds passing)
    "noise",  # strong sensor noise, new every frame
    "lean_out",  # the person leans out of the frame and back
)


def motion_index(kind: str) -> int:
    """The position of ``kind`` in :data:`CLIP_MOTIONS` (it seeds that kind's clips).

    Raises:
        ValueError: For an unknown ``kind``, naming the known ones.
    """
    if kind not in CLIP_MOTIONS:
        raise ValueError(f"unknown clip motion {kind!r}; expected one of {', '.join(CLIP_MOTIONS)}")
    return CLIP_MOTIONS.index(kind)


def scripted_motion(
    rng: np.random.Generator, kind: str, length: int, edge: tuple[float, float] = (1.0, 2.0)
) -> Callable[[int], tuple[Pose, float, tuple[float, float]]]:
    """Samples the person and camera motion of one scripted clip kind (:data:`CLIP_MOTIONS`).

    Every kind but ``still`` adds a mild background motion (sway, nod, talking); the kind sets
    the rest: the head-turn speed, the camera jitter, the lean out of the frame. Lighting and
    noise changes are applied by the generator to the light, waving hands to the person.

    Args:
        rng: Random generator.
        kind: One of :data:`CLIP_MOTIONS`.
        length: Number of frames of the clip (the lean out and back spans the whole clip).
        edge: ``(side, distance)`` of the nearer side frame edge from the head centre (side -1:
            left, +1: right; distance in head units): ``lean_out`` moves the head 0.8-1.3 times
            that far towards it and back.

    Returns:
        ``motion(t) -> (pose, zoom, shift)`` as :func:`sample_motion`.

    Raises:
        ValueError: For an unknown ``kind``.
    """
    motion_index(kind)
    still = kind == "still"
    fast = rng.uniform(0.04, 0.10, size=4)
    ph = rng.uniform(0, 2 * math.pi, size=6)
    sway = rng.uniform(0.0, 0.006) if still else rng.uniform(0.02, 0.08)
    nod = rng.uniform(0.0, 0.004) if still else rng.uniform(0.0, 0.05)
    yaw_amp, yaw_freq = (0.0, 0.0) if still else (rng.uniform(0.02, 0.06), fast[2])
    if kind == "turn_slow":
        yaw_amp, yaw_freq = rng.uniform(0.25, 0.4), rng.uniform(0.01, 0.03)
    elif kind == "turn_fast":
        yaw_amp, yaw_freq = rng.uniform(0.25, 0.4), rng.uniform(0.08, 0.15)
        sway = rng.uniform(0.1, 0.25)
    jitter = np.zeros((length, 2))
    if kind == "shake":  # smoothed white noise: jumps of ~1-2 % of the frame between frames
        amp = rng.uniform(0.008, 0.02)
        raw = rng.standard_normal((length + 2, 2))
        jitter = amp * (raw[:-2] + raw[1:-1] + raw[2:]) / math.sqrt(3)
    side = float(edge[0])
    reach = edge[1] * rng.uniform(0.8, 1.3) if kind == "lean_out" else 0.0  # at the clip's middle
    talk = not still and rng.random() < 0.5
    blink_period, blink_phase = int(rng.integers(25, 60)), int(rng.integers(0, 60))

    def at(t: int) -> tuple[Pose, float, tuple[float, float]]:
        def wave(i: int) -> float:
            return math.sin(2 * math.pi * fast[i] * t + ph[i])

        yaw = yaw_amp * math.sin(2 * math.pi * yaw_freq * t + ph[4])
        bump = math.sin(math.pi * t / max(length - 1, 1)) ** 2 if reach else 0.0
        pose = Pose(
            dx=sway * wave(0) + 0.3 * yaw + side * reach * bump,
            dy=nod * wave(1) + 0.15 * reach * bump,
            tilt=0.0 if still else 0.03 * wave(3),
            lean=side * 0.12 * bump,
            yaw=yaw,
            hand_t=float(t),
            mouth_open=max(0.0, math.sin(2 * math.pi * 0.13 * t + ph[5])) if talk else 0.0,
            blink=(t + blink_phase) % blink_period == 0,
        )
        return pose, 1.0, (float(jitter[t % length, 0]), float(jitter[t % length, 1]))

    return at


def light_gains(rng: np.random.Generator, kind: str, length: int) -> np.ndarray:
    """Per-frame brightness gains of the scene light for a clip of ``kind``: all 1 except for
    ``lighting``, where the light is switched (a step to or from 45-70 % over 2-4 frames at a random
    frame) or dims and brightens smoothly (clouds, ±15-30 %)."""
    gains = np.ones(length)
    if kind != "lighting":
        return gains
    t = np.arange(length)
    if rng.random() < 0.5:
        low, start, ramp = (
            rng.uniform(0.45, 0.7),
            rng.integers(length // 4, 3 * length // 4 + 1),
            rng.integers(2, 5),
        )
        step = np.clip((t - start) / ramp, 0.0, 1.0)
        return 1.0 + (low - 1.0) * (step if rng.random() < 0.5 else 1.0 - step)
    depth, freq = rng.uniform(0.15, 0.3), rng.uniform(0.02, 0.06)
    return 1.0 + depth * np.sin(2 * math.pi * freq * t + rng.uniform(0, 2 * math.pi))
