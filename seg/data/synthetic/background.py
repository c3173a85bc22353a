"""The background (mask 0): a wall texture or a room, clutter, far-away people and defocus.

Backgrounds are rendered once per frame or clip at output resolution (plus a margin for the camera
motion of clips). Sometimes their colours are copied from the person's shirt or hair, and people
in the background share the target's shape prior but must be rejected.
"""

from __future__ import annotations

import cv2
import numpy as np

from seg.data.synthetic.canvas import Painter
from seg.data.synthetic.lighting import LightSpec, defocus
from seg.data.synthetic.motion import Pose
from seg.data.synthetic.palette import jitter_color, random_wall_color
from seg.data.synthetic.person import draw_person, sample_person
from seg.data.synthetic.room import (
    ROOM_ITEM_NAMES,
    ROOM_ITEM_P,
    draw_random_window,
    draw_room_item,
)
from seg.data.synthetic.sampling import choice
from seg.data.synthetic.specs import PersonSpec
from seg.data.synthetic.textures import TEXTURES, texture_gradient, texture_noise

_BACKGROUNDS = ("room", "bricks", "tiles", "wood", "stripes", "noise", "gradient")
_BACKGROUND_P = (0.46, 0.09, 0.08, 0.09, 0.09, 0.1, 0.09)


def _hard_probability(base: float, difficulty: float) -> float:
    """Probability of a hard element, scaled by difficulty."""
    return min(1.0, base * difficulty)


def render_background(
    rng: np.random.Generator,
    person: PersonSpec,
    light: LightSpec,
    height: int,
    width: int,
    margin: float,
    difficulty: float,
) -> tuple[np.ndarray, dict[str, str]]:
    """Renders the background canvas (output resolution plus ``margin`` on each side).

    Args:
        rng: Random generator.
        person: The foreground person (colours to copy, position of a backlit window).
        light: The scene's light (backlit scenes get a bright window behind the person).
        height: Output height in pixels.
        width: Output width in pixels.
        margin: Extra canvas on each side, as a fraction of the output size (for clips).
        difficulty: Scales how often colour matching, clutter and background people appear.

    Returns:
        The ``H' x W' x 3`` uint8 canvas and its attributes (``background``, ``bg_people``,
        ``color_match``, ``defocus``).
    """
    h = round(height * (1 + 2 * margin))
    w = round(width * (1 + 2 * margin))
    kind = choice(rng, _BACKGROUNDS, _BACKGROUND_P)
    matched = rng.random() < _hard_probability(0.3, difficulty)
    hint = person.shirt if rng.random() < 0.6 else person.hair.color
    base = jitter_color(rng, hint, 10) if matched else random_wall_color(rng)
    if kind == "room":
        img = texture_gradient(rng, h, w, base)
        if rng.random() < 0.3:
            img = cv2.addWeighted(img, 0.75, texture_noise(rng, h, w, base), 0.25, 0.0)
    else:
        img = TEXTURES[kind](rng, h, w, base)
    clutter_p = 1.0 if kind == "room" else 0.35
    n_items = int(rng.integers(1, 2 + round(5 * difficulty))) if rng.random() < clutter_p else 0
    for _ in range(n_items):
        item = choice(rng, ROOM_ITEM_NAMES, ROOM_ITEM_P)
        color = jitter_color(rng, hint, 12) if matched and rng.random() < 0.5 else None
        if item == "window":
            draw_random_window(img, rng, light.kind == "backlit", None)
        else:
            draw_room_item(img, rng, item, color)
    if light.kind == "backlit":  # a bright window right behind the person
        draw_random_window(img, rng, True, (w - width) / 2 + person.x * width)
    n_people = 0
    if rng.random() < _hard_probability(0.25, difficulty):
        n_people = 1 + int(rng.random() < 0.35)
        for _ in range(n_people):
            _draw_background_person(img, rng, difficulty)
    sigma = 0.0
    if n_people or rng.random() < 0.35:
        sigma = rng.uniform(0.6, 2.6) * h / 144
        img = defocus(img, sigma)
    return img, {
        "background": kind,
        "bg_people": str(n_people),
        "color_match": "yes" if matched else "no",
        "defocus": "yes" if sigma > 0 else "no",
    }


def _draw_background_person(img: np.ndarray, rng: np.random.Generator, difficulty: float) -> None:
    """A smaller person behind: same shape prior as the target, but background (mask 0)."""
    h, w = img.shape[:2]
    extra = sample_person(rng, difficulty, main=False)
    ref = min(h, 1.3 * w)
    unit = ref * rng.uniform(0.045, 0.1)
    hx, hy = rng.uniform(0.0, 1.0) * w, rng.uniform(0.15, 0.55) * h
    painter = Painter(img, None, 1.0)
    draw_person(painter, extra, Pose(), hx, hy, unit, 1.0, None)
