"""Records of every random choice about a person (hair, raised hands, body, accessories).

A person is sampled once per frame or clip; the records let clips redraw the same person in
every frame. Lengths are in head units (head half-height = 1) unless noted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seg.data.synthetic.palette import Color


@dataclass
class HandSpec:
    """A raised hand and its arm (body-local units), possibly holding an object.

    Attributes:
        side: -1: hand on the image-left side of the body, +1: right.
        pos: Hand centre, body-local units.
        elbow: Elbow position, body-local units.
        angle: Hand direction, radians from "fingers up", clockwise.
        spread: Finger spread in ``[0, 1]``.
        curl: Finger curl in ``[0, 1)`` (0: straight).
        size: Hand scale.
        held: Held object: ``none``, ``mug`` or ``phone``.
        object_color: Colour of the held object.
        wave_amp: Waving amplitude (radians of hand rotation).
        wave_freq: Waving frequency, cycles per frame.
        wave_phase: Waving phase, radians.
    """

    side: int
    pos: tuple[float, float]
    elbow: tuple[float, float]
    angle: float
    spread: float
    curl: float
    size: float
    held: str
    object_color: Color
    wave_amp: float
    wave_freq: float
    wave_phase: float


@dataclass
class HairSpec:
    """Every random choice about the hair, so that clips redraw the same hair every frame.

    Attributes:
        style: Hair style attribute (bald, buzz, short, long, bun, curly, ponytail).
        color_name: Hair colour attribute (black, brown, blonde, red, gray, dyed).
        color: Base hair colour.
        back: Polygons behind the head and body, head-local units.
        front: Polygons in front of the face, head-local units.
        hairline: Forehead hairline height, head-local units.
        top: Height of the front hair (or bald head) above the head centre.
        strand_curves: ``K x 7 x 2`` flyaways, head-local units.
        strand_width: ``K`` flyaway widths in output pixels.
        stroke_curves: ``K x 8 x 2`` texture strokes, head-local units.
        stroke_shade: ``K`` shade-group indices of the texture strokes.
        flyaways: Flyaways attribute: ``none``, ``few`` or ``many``.
    """

    style: str
    color_name: str
    color: Color
    back: list[np.ndarray]
    front: list[np.ndarray]
    hairline: float
    top: float
    strand_curves: np.ndarray
    strand_width: np.ndarray
    stroke_curves: np.ndarray
    stroke_shade: np.ndarray
    flyaways: str


@dataclass
class PersonSpec:
    """Every random choice about a person; lengths in head units (head half-height = 1).

    Attributes:
        tone: Skin-tone group, ``tone1`` (light) to ``tone6`` (deep).
        skin: Skin colour.
        hair: The hair.
        head_pts: Face outline, head-local units.
        aspect: Head half-width over half-height.
        ear: Ear size.
        yaw: Head turn, shifts the facial features sideways.
        neck_w: Neck half-width.
        neck_base: Height of the neck base below the head centre.
        shoulder_w: Shoulder half-width.
        shoulder_drop: How far the shoulders slope down.
        arm_spread: How far the hanging arms stand off the torso.
        shirt: Main clothing colour.
        shirt2: Second clothing colour (pattern, jacket, logo).
        pattern: Clothing attribute (plain, stripes, checks, logo, jacket, hoodie).
        collar: ``round``, ``v``, ``shirt`` or ``none``.
        long_sleeves: Whether raised forearms are covered.
        pattern_scale: Pattern period.
        eye: Iris colour.
        lips: Lip colour.
        brow: Eyebrow thickness.
        beard: Stubble (close to the skin) to full beard (hair colour), or ``None``.
        glasses: Glasses frame colour, or ``None``.
        glasses_round: Round (else rectangular) lenses.
        headphones: Headphones colour, or ``None``.
        hands: Raised hands (zero to two).
        x: Head centre, fraction of the image width.
        y: Head centre, fraction of the image height.
        size: Head half-height, fraction of ``min(height, 1.3 * width)``.
        tilt: Head tilt, radians.
        lean: Body lean, radians.
        scale_name: Framing attribute (close, medium, far).
    """

    tone: str
    skin: Color
    hair: HairSpec
    head_pts: np.ndarray
    aspect: float
    ear: float
    yaw: float
    neck_w: float
    neck_base: float
    shoulder_w: float
    shoulder_drop: float
    arm_spread: float
    shirt: Color
    shirt2: Color
    pattern: str
    collar: str
    long_sleeves: bool
    pattern_scale: float
    eye: Color
    lips: Color
    brow: float
    beard: Color | None
    glasses: Color | None
    glasses_round: bool
    headphones: Color | None
    hands: list[HandSpec]
    x: float
    y: float
    size: float
    tilt: float
    lean: float
    scale_name: str
