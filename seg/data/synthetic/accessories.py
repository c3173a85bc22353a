"""Arms, raised hands with fingers, held objects (mug, phone), glasses and headphones.

All of them are foreground: held objects move with the person, as in common portrait
matting/segmentation datasets. Finger gaps, glasses temples, headphone bands and mug handles are
thin structures at the mask boundary.
"""

from __future__ import annotations

import math

import numpy as np

from seg.data.synthetic.canvas import Painter
from seg.data.synthetic.geometry import Blob, LocalFrame, ellipse_points
from seg.data.synthetic.motion import Pose
from seg.data.synthetic.palette import Color, mix_colors, random_cloth_color, scale_color
from seg.data.synthetic.sampling import choice
from seg.data.synthetic.specs import HandSpec, PersonSpec


def sample_hand(rng: np.random.Generator, side: int, shoulder_w: float, may_hold: bool) -> HandSpec:
    """A raised hand: next to the head (waving/gesturing) or holding an object at the chest.

    Args:
        rng: Random generator.
        side: -1 for the image-left side of the body, +1 for the right.
        shoulder_w: Shoulder half-width of the person (head units).
        may_hold: Whether the hand may hold a mug or a phone.

    Returns:
        The hand, in body-local units.
    """
    held = "none"
    if may_hold:
        held = choice(rng, ("none", "mug", "phone"), (0.5, 0.25, 0.25))
    if held == "none":
        pos = (side * rng.uniform(1.0, 2.6), rng.uniform(-1.0, 1.8))
        elbow = (pos[0] + side * rng.uniform(0.3, 1.3), pos[1] + rng.uniform(2.0, 3.0))
        angle = side * rng.uniform(-0.2, 0.6)
    else:
        pos = (side * rng.uniform(0.1, 1.4), rng.uniform(1.7, 3.2))
        elbow = (side * (shoulder_w + rng.uniform(0.0, 0.8)), pos[1] + rng.uniform(1.6, 2.6))
        angle = side * rng.uniform(-0.3, 0.3)
    waving = held == "none" and rng.random() < 0.5
    return HandSpec(
        side=side,
        pos=pos,
        elbow=elbow,
        angle=angle,
        spread=rng.uniform(0.0, 1.0),
        curl=rng.uniform(0.0, 0.7) if rng.random() < 0.4 else 0.0,
        size=rng.uniform(0.85, 1.1),
        held=held,
        object_color=random_cloth_color(rng),
        wave_amp=rng.uniform(0.25, 0.5) if waving else rng.uniform(0.0, 0.08),
        wave_freq=rng.uniform(0.15, 0.35),
        wave_phase=rng.uniform(0, 2 * math.pi),
    )


def draw_limb(p: Painter, pts: np.ndarray, color: Color, width: float) -> None:
    """A limb segment: a round-capped polyline ``width`` canvas pixels thick, in the mask.

    Args:
        p: Painter.
        pts: ``N x 2`` polyline in canvas pixels.
        color: Sleeve or skin colour.
        width: Thickness in canvas pixels (rounded, at least 1).
    """
    p.stroke(pts, color, max(1, round(width)))


def _draw_hand(
    p: Painter,
    frame: LocalFrame,
    center: np.ndarray,
    angle: float,
    hand: HandSpec,
    skin: Color,
    grip: bool,
) -> None:
    """Palm, four fingers and a thumb; ``grip`` curls the fingers around an object."""
    size = hand.size
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]])

    def to_body(local: np.ndarray) -> np.ndarray:
        return local @ rot.T * size + center

    palm = ellipse_points(0.0, 0.0, 0.27, 0.3, 20)
    p.fill(frame(to_body(palm)), skin)
    curl = 0.65 if grip else hand.curl
    lengths = np.array([0.4, 0.47, 0.44, 0.34]) * (1.0 - curl * 0.6)
    finger_w = max(1, round(0.115 * size * frame.unit))
    crease = scale_color(skin, 0.8)
    for i, length in enumerate(lengths):
        base_x = -0.19 + 0.125 * i
        a = (i - 1.5) * 0.12 * (0.3 + hand.spread)
        tip = np.array([base_x + length * math.sin(a), -0.22 - length * math.cos(a)])
        p.stroke(frame(to_body(np.array([[base_x, -0.18], tip]))), skin, finger_w)
        if i > 0 and not grip:
            gap = np.array([[base_x - 0.062, -0.24], [base_x - 0.062, -0.3]])
            p.stroke(frame(to_body(gap)), crease, max(1, finger_w // 3), to_mask=False)
    thumb_side = -hand.side
    ta = thumb_side * (0.85 + 0.5 * hand.spread)
    thumb = np.array(
        [
            [thumb_side * 0.2, 0.05],
            [thumb_side * 0.2 + 0.36 * math.sin(ta), 0.05 - 0.36 * math.cos(ta)],
        ]
    )
    p.stroke(frame(to_body(thumb)), skin, max(1, round(0.14 * size * frame.unit)))


def _draw_held_object(
    p: Painter, frame: LocalFrame, center: np.ndarray, hand: HandSpec, blobs: list[Blob] | None
) -> None:
    """A mug (with a handle ring whose hole shows what is behind) or a phone."""
    col = hand.object_color
    if hand.held == "mug":
        body = np.array([[-0.3, -0.38], [0.3, -0.38], [0.27, 0.38], [-0.27, 0.38]]) + center
        handle = ellipse_points(center[0] + hand.side * 0.36, center[1], 0.17, 0.2, 20)
        p.stroke(frame(handle), col, max(1, round(0.08 * frame.unit)), closed=True)
        p.fill(frame(body), col)
        rim = ellipse_points(center[0], center[1] - 0.38, 0.3, 0.07, 20)
        p.fill(frame(rim), scale_color(col, 0.6), to_mask=False)
        shine = np.array([[-0.18, -0.25], [-0.16, 0.28]]) + center
        p.stroke(
            frame(shine),
            mix_colors(col, (255, 255, 255), 0.4),
            max(1, round(0.04 * frame.unit)),
            to_mask=False,
        )
    else:
        a = hand.angle * 0.5
        c, s = math.cos(a), math.sin(a)
        rect = np.array([[-0.25, -0.5], [0.25, -0.5], [0.25, 0.5], [-0.25, 0.5]])
        rot = np.array([[c, -s], [s, c]])
        p.fill(frame(rect @ rot.T + center), scale_color(col, 0.35))
        screen = rect * np.array([0.82, 0.9]) @ rot.T + center
        p.fill(frame(screen), mix_colors((40, 60, 90), col, 0.3), to_mask=False)
    if blobs is not None:
        blobs.append(frame.blob(center[0] + 0.2, center[1] + 0.5, 0.5, 0.4, -0.18))


def draw_raised_arm(
    p: Painter,
    spec: PersonSpec,
    body: LocalFrame,
    hand: HandSpec,
    t: float,
    blobs: list[Blob] | None,
) -> None:
    """Upper arm, forearm and hand (plus held object) of one raised arm.

    Args:
        p: Painter.
        spec: The person (sleeves, skin, shoulders).
        body: Body-local frame.
        hand: The raised hand.
        t: Time (frame index in a clip), drives waving.
        blobs: Receives soft shading ellipses, or ``None``.
    """
    wave = hand.wave_amp * math.sin(2 * math.pi * hand.wave_freq * t + hand.wave_phase)
    pos = np.asarray(hand.pos) + np.array([0.25 * wave, 0.1 * abs(wave)])
    shoulder = np.array(
        [hand.side * (spec.shoulder_w - 0.35), spec.neck_base + spec.shoulder_drop + 0.45]
    )
    elbow = np.asarray(hand.elbow)
    sleeve = scale_color(spec.shirt2 if spec.pattern == "jacket" else spec.shirt, 0.92)
    draw_limb(p, body(np.stack([shoulder, elbow])), sleeve, 0.78 * body.unit)
    direction = pos - elbow
    direction /= max(1e-6, float(np.linalg.norm(direction)))
    wrist = pos - direction * 0.42 * hand.size
    forearm_color = sleeve if spec.long_sleeves else spec.skin
    draw_limb(p, body(np.stack([elbow, wrist])), forearm_color, 0.46 * body.unit)
    if spec.long_sleeves:
        draw_limb(
            p,
            body(np.stack([wrist - direction * 0.05, wrist + direction * 0.12])),
            spec.skin,
            0.36 * body.unit,
        )
    if blobs is not None:
        blobs.append(body.blob(*((elbow + wrist) / 2 + np.array([0.25, 0.3])), 0.35, 1.0, -0.15))
    angle = math.atan2(direction[0], -direction[1]) + hand.angle * 0.3 + wave
    if hand.held == "none":
        _draw_hand(p, body, pos, angle, hand, spec.skin, grip=False)
        return
    obj_center = pos + np.array([-hand.side * 0.4, -0.1])
    if hand.held == "phone":
        _draw_hand(p, body, pos + np.array([0.0, 0.2]), angle, hand, spec.skin, grip=True)
        _draw_held_object(p, body, obj_center, hand, blobs)
        thumb = np.array([[hand.side * 0.15, 0.1], [hand.side * 0.18, -0.25]]) + obj_center
        draw_limb(p, body(thumb), spec.skin, 0.13 * body.unit)
    else:
        _draw_held_object(p, body, obj_center, hand, blobs)
        _draw_hand(p, body, pos, angle, hand, spec.skin, grip=True)


def draw_headphones(p: Painter, spec: PersonSpec, head: LocalFrame) -> None:
    """A band resting on (slightly sunk into) the top of the hair, and two ear cups.

    Args:
        p: Painter.
        spec: The person (its ``headphones`` colour must be set).
        head: Head-local frame.
    """
    color = spec.headphones
    assert color is not None
    a = spec.aspect
    band_w = 0.12
    rise = spec.hair.top + 0.08 - 0.5 * band_w  # band centre line, from the cup centres
    band = ellipse_points(0.0, 0.08, a + 0.06, rise, 24, math.pi, 2 * math.pi)
    p.stroke(head(band), color, max(1, round(band_w * head.unit)))
    for s in (-1.0, 1.0):
        cup = ellipse_points(s * (a + 0.06), 0.08, 0.17, 0.3, 20)
        p.fill(head(cup), scale_color(color, 0.75))
        pad = ellipse_points(s * (a + 0.1), 0.08, 0.09, 0.2, 14)
        p.fill(head(pad), scale_color(color, 0.5), to_mask=False)


def draw_glasses(p: Painter, spec: PersonSpec, head: LocalFrame, pose: Pose) -> None:
    """Round or rectangular rims, bridge and temples (in the mask), plus a glint.

    Args:
        p: Painter.
        spec: The person (its ``glasses`` colour must be set).
        head: Head-local frame.
        pose: Per-frame motion (head turn).
    """
    color = spec.glasses
    assert color is not None
    a = spec.aspect
    fx = (spec.yaw + pose.yaw) * a * 0.4
    thick = max(1, round(0.035 * head.unit))
    for s in (-1.0, 1.0):
        ex = s * a * 0.42 + fx
        if spec.glasses_round:
            lens = ellipse_points(ex, -0.04, 0.2, 0.17, 20)
        else:
            lens = np.array(
                [[ex - 0.21, -0.16], [ex + 0.21, -0.16], [ex + 0.19, 0.1], [ex - 0.19, 0.1]]
            )
        p.stroke(head(lens), color, thick, closed=True)
        glint = np.array([[ex - 0.1, -0.1], [ex - 0.03, -0.12]])
        p.stroke(head(glint), (235, 240, 245), max(1, thick // 2), to_mask=False)
        temple = np.array([[ex + s * 0.2, -0.08], [s * (a * 0.99), -0.06]])
        p.stroke(head(temple), color, thick)
    bridge = np.array([[-a * 0.42 + fx + 0.2, -0.06], [fx, -0.1], [a * 0.42 + fx - 0.2, -0.06]])
    p.stroke(head(bridge), color, thick)
