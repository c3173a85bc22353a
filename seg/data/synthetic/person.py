"""The person: skin tones, framing, head and face, neck, shoulders, and assembling all parts.

:func:`sample_person` makes every random choice about one person (hair, clothing, accessories and
raised hands included); :func:`draw_person` draws it back to front: hair behind the head, hanging
arms, torso and collar, neck, ears, face, facial features, front hair, flyaways, glasses,
headphones and raised arms. Six skin-tone groups (``tone1`` light to ``tone6`` deep) are recorded
for fairness breakdowns.
"""

from __future__ import annotations

import math

import numpy as np

from seg.data.synthetic.accessories import (
    draw_glasses,
    draw_headphones,
    draw_limb,
    draw_raised_arm,
    sample_hand,
)
from seg.data.synthetic.canvas import Painter
from seg.data.synthetic.clothing import (
    PATTERN_P,
    PATTERNS,
    cloth_texture,
    draw_collar,
    torso_polygon,
)
from seg.data.synthetic.geometry import Blob, LocalFrame, bezier, ellipse_points
from seg.data.synthetic.hair import draw_strands, hair_texture, sample_hair
from seg.data.synthetic.motion import Pose
from seg.data.synthetic.palette import (
    Color,
    hsv_color,
    jitter_color,
    mix_colors,
    random_cloth_color,
    scale_color,
)
from seg.data.synthetic.sampling import choice
from seg.data.synthetic.specs import HandSpec, PersonSpec

_SKIN_TONES: dict[str, Color] = {
    "tone1": (242.0, 212.0, 192.0),
    "tone2": (228.0, 184.0, 150.0),
    "tone3": (202.0, 150.0, 112.0),
    "tone4": (170.0, 118.0, 82.0),
    "tone5": (126.0, 82.0, 54.0),
    "tone6": (84.0, 54.0, 38.0),
}
# Framing: head half-height (fraction of min(height, 1.3 * width)) and head-centre height.
_SCALES: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "close": ((0.28, 0.44), (0.4, 0.62)),
    "medium": ((0.18, 0.28), (0.32, 0.5)),
    "far": ((0.09, 0.18), (0.24, 0.44)),
}


def _head_outline(aspect: float, jaw: float, chin: float, n: int = 44) -> np.ndarray:
    """Face outline in head-local units (half-height 1): an ellipse with a narrower jaw and chin."""
    t = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    lower = np.clip(np.sin(t), 0.0, None)
    x = aspect * np.cos(t) * (1.0 - jaw * lower**2)
    y = np.sin(t) * (1.0 + chin * lower**4)
    return np.stack([x, y], axis=1)


def _sample_skin(rng: np.random.Generator) -> tuple[str, Color]:
    """A skin-tone group (uniform over the six) and a jittered colour within it."""
    tone = str(rng.choice(list(_SKIN_TONES)))
    return tone, jitter_color(rng, _SKIN_TONES[tone], 7.0)


def sample_person(rng: np.random.Generator, difficulty: float, main: bool = True) -> PersonSpec:
    """Samples every random choice about one person.

    Args:
        rng: Random generator.
        difficulty: Scales how often hard elements (flyaways, raised hands) appear.
        main: The foreground person (placement, hands, accessories) or a background extra.

    Returns:
        The person; lengths in head units.
    """
    tone, skin = _sample_skin(rng)
    aspect = rng.uniform(0.72, 0.84)
    hair = sample_hair(rng, tone, aspect, difficulty if main else 0.3 * difficulty)
    shoulder_w = rng.uniform(1.85, 2.6)
    scale_name = choice(rng, list(_SCALES), (0.35, 0.4, 0.25))
    size_range, y_range = _SCALES[scale_name]
    size = rng.uniform(*size_range)
    y = rng.uniform(*y_range)
    x = float(np.clip(0.5 + rng.normal(0.0, 0.14), 0.06, 0.94))
    hands: list[HandSpec] = []
    if main:
        u = rng.random()
        n_hands = 2 if u < 0.08 * difficulty else (1 if u < 0.38 * difficulty else 0)
        sides = [-1, 1] if n_hands == 2 else [int(rng.choice([-1, 1]))] * n_hands
        hands = [sample_hand(rng, s, shoulder_w, may_hold=rng.random() < 0.6) for s in sides]
    shirt = random_cloth_color(rng)
    glasses = (
        hsv_color(rng.random(), rng.uniform(0, 0.6), rng.uniform(0.05, 0.6))
        if main and rng.random() < 0.25
        else None
    )
    headphones = (
        hsv_color(rng.random(), rng.uniform(0, 0.5), rng.uniform(0.08, 0.9))
        if main and rng.random() < 0.16
        else None
    )
    return PersonSpec(
        tone=tone,
        skin=skin,
        hair=hair,
        head_pts=_head_outline(aspect, rng.uniform(0.04, 0.28), rng.uniform(0.0, 0.12)),
        aspect=aspect,
        ear=rng.uniform(0.22, 0.3),
        yaw=rng.uniform(-0.35, 0.35),
        neck_w=rng.uniform(0.3, 0.44),
        neck_base=rng.uniform(1.25, 1.5),
        shoulder_w=shoulder_w,
        shoulder_drop=rng.uniform(0.3, 0.6),
        arm_spread=rng.uniform(0.0, 0.5),
        shirt=shirt,
        shirt2=random_cloth_color(rng),
        pattern=choice(rng, PATTERNS, PATTERN_P),
        collar=choice(rng, ("round", "v", "shirt", "none"), (0.4, 0.2, 0.2, 0.2)),
        long_sleeves=bool(rng.random() < 0.5),
        pattern_scale=rng.uniform(0.12, 0.35),
        eye=jitter_color(
            rng, (55.0, 38.0, 28.0) if rng.random() < 0.75 else (70.0, 100.0, 120.0), 10
        ),
        lips=mix_colors(skin, (150.0, 60.0, 60.0), rng.uniform(0.25, 0.5)),
        brow=rng.uniform(0.035, 0.07),
        beard=mix_colors(skin, hair.color, rng.uniform(0.35, 0.9)) if rng.random() < 0.12 else None,
        glasses=glasses,
        glasses_round=bool(rng.random() < 0.5),
        headphones=headphones,
        hands=hands,
        x=x,
        y=y,
        size=size,
        tilt=rng.uniform(-0.14, 0.14),
        lean=rng.uniform(-0.06, 0.06),
        scale_name=scale_name,
    )


def _draw_face_features(p: Painter, spec: PersonSpec, head: LocalFrame, pose: Pose) -> None:
    """Eyes, eyebrows, nose shadow, mouth and optional beard (colour only)."""
    a = spec.aspect
    fx = (spec.yaw + pose.yaw) * a * 0.4
    u = head.unit
    dark = scale_color(spec.skin, 0.72)
    line = max(1, round(0.035 * u))
    for s in (-1.0, 1.0):
        ex = s * a * 0.42 + fx
        if pose.blink:
            p.stroke(
                head(np.array([[ex - 0.12, -0.04], [ex + 0.12, -0.04]])), dark, line, to_mask=False
            )
        else:
            p.fill(head(ellipse_points(ex, -0.05, 0.13, 0.065, 16)), (236, 232, 225), to_mask=False)
            p.fill(
                head(ellipse_points(ex + fx * 0.15, -0.05, 0.06, 0.06, 12)), spec.eye, to_mask=False
            )
            lid = ellipse_points(ex, -0.05, 0.14, 0.075, 10, math.pi * 1.05, math.pi * 1.95)
            p.stroke(head(lid), scale_color(spec.hair.color, 0.6), line, to_mask=False)
        brow = bezier((ex - s * 0.17, -0.2), (ex, -0.3), (ex + s * 0.17, -0.22), 6)
        p.stroke(
            head(brow),
            scale_color(spec.hair.color, 0.85),
            max(1, round(spec.brow * u)),
            to_mask=False,
        )
    if spec.beard is not None:
        jaw = spec.head_pts[spec.head_pts[:, 1] > 0.3]
        jaw = jaw[np.argsort(np.arctan2(jaw[:, 1], jaw[:, 0]))]  # right cheek -> chin -> left cheek
        inner = bezier((-a * 0.8, 0.3), (fx, 0.25), (a * 0.8, 0.3), 8)
        p.fill(head(np.concatenate([jaw, inner])), spec.beard, to_mask=False)
    nose = bezier((fx * 1.3, -0.02), (fx * 1.6 + 0.06, 0.18), (fx * 1.5 - 0.02, 0.3), 6)
    p.stroke(head(nose), scale_color(spec.skin, 0.82), max(1, round(0.03 * u)), to_mask=False)
    mouth_y = 0.55
    if pose.mouth_open > 0.3:
        mouth = ellipse_points(fx * 1.2, mouth_y, 0.17, 0.08 * pose.mouth_open, 16)
        p.fill(head(mouth), (70, 30, 32), to_mask=False)
    else:
        smile = bezier(
            (fx * 1.2 - 0.17, mouth_y - 0.02),
            (fx * 1.2, mouth_y + 0.06),
            (fx * 1.2 + 0.17, mouth_y - 0.02),
            7,
        )
        p.stroke(head(smile), spec.lips, max(1, round(0.05 * u)), to_mask=False)


def draw_person(
    p: Painter,
    spec: PersonSpec,
    pose: Pose,
    hx: float,
    hy: float,
    unit: float,
    px: float,
    blobs: list[Blob] | None,
    light_x: float = 0.0,
) -> None:
    """Draws one person.

    Args:
        p: Painter (with a mask canvas for the foreground person, without for background extras).
        spec: The person's random choices.
        pose: Per-frame motion.
        hx: Head centre x in canvas pixels.
        hy: Head centre y in canvas pixels.
        unit: Head half-height in canvas pixels.
        px: Canvas pixels per output pixel (the supersampling factor), for thin lines.
        blobs: Receives soft shading ellipses (canvas pixels), or ``None``.
        light_x: Key-light direction (-1 left, +1 right), for the face highlight.
    """
    canvas_h = p.color.shape[0]
    body = LocalFrame(unit, spec.lean + pose.lean, (0.0, 6.0), (hx, hy + 6.0 * unit))
    head = LocalFrame(
        unit, spec.lean + pose.lean + spec.tilt + pose.tilt, (0.0, 0.9), body.point(0.0, 0.9)
    )
    bottom = (canvas_h - hy) / unit + 3.0
    skin_dark = scale_color(spec.skin, 0.88)
    raised = {h.side for h in spec.hands}

    for poly in spec.hair.back:
        p.fill_textured(head(poly), hair_texture(spec.hair, head, px))
    sleeve = scale_color(spec.shirt2 if spec.pattern == "jacket" else spec.shirt, 0.9)
    nb, sw, drop = spec.neck_base, spec.shoulder_w, spec.shoulder_drop
    for s in (-1.0, 1.0):
        if s in raised:
            continue
        arm = np.array(
            [
                [sw - 0.3, nb + drop + 0.5],
                [sw + 0.05 + spec.arm_spread, nb + drop + 2.7],
                [sw - 0.25 + spec.arm_spread * 0.5, nb + drop + 5.2],
            ]
        ) * np.array([s, 1.0])
        draw_limb(p, body(arm), sleeve, 0.72 * unit)
    if spec.pattern == "hoodie":
        hood = ellipse_points(0.0, nb - 0.05, spec.neck_w + 0.7, 0.45, 24)
        p.fill(body(hood), scale_color(spec.shirt, 0.8))
    p.fill_textured(body(torso_polygon(spec, bottom)), cloth_texture(spec, body, px))
    draw_collar(p, spec, body)

    neck = np.array(
        [
            [-spec.neck_w, 0.45],
            [spec.neck_w, 0.45],
            [spec.neck_w * 1.12, nb + 0.05],
            [-spec.neck_w * 1.12, nb + 0.05],
        ]
    )
    p.fill(body(neck), skin_dark)
    a = spec.aspect
    fx = (spec.yaw + pose.yaw) * a * 0.4
    for s in (-1.0, 1.0):
        ear = ellipse_points(s * (a * 0.97) - fx * 0.3, 0.08, 0.13, spec.ear * 0.5 + 0.03, 16)
        p.fill(head(ear), skin_dark)
    p.fill(head(spec.head_pts), spec.skin)
    if blobs is not None:
        blobs.append(body.blob(0.0, 1.2, spec.neck_w * 1.2, 0.22, -0.35))
        blobs.append(body.blob(0.0, nb + 0.25, spec.neck_w * 1.6, 0.25, -0.2))
        blobs.append(head.blob(light_x * 0.3 * a, -0.15, 0.45 * a, 0.6, 0.1))
        blobs.append(head.blob(-light_x * 0.75 * a, 0.15, 0.35 * a, 0.9, -0.14))
        if spec.hair.style != "bald":
            blobs.append(head.blob(0.0, spec.hair.hairline + 0.12, 0.75 * a, 0.12, -0.14))
    _draw_face_features(p, spec, head, pose)
    for poly in spec.hair.front:
        p.fill_textured(head(poly), hair_texture(spec.hair, head, px))
    draw_strands(p, spec.hair, head, px)
    if spec.glasses is not None:
        draw_glasses(p, spec, head, pose)
    if spec.headphones is not None:
        draw_headphones(p, spec, head)
    for hand in spec.hands:
        draw_raised_arm(p, spec, body, hand, pose.hand_t, blobs)
