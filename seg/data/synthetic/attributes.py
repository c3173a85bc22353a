"""Categorical attributes: each sample's record of what was drawn (see :mod:`.sampling` for the draw).

Every sample carries categorical strings (one manifest column each) for per-group metrics:

* ``skin_tone``: ``tone1`` .. ``tone6``; ``hair``: bald, buzz, short, long, bun, curly, ponytail;
  ``hair_color``: black, brown, blonde, red, gray, dyed; ``flyaways``: none, few (1-8), many.
* ``clothing``: plain, stripes, checks, logo, jacket, hoodie; ``accessory``: none, glasses,
  headphones, glasses+headphones; ``hands`` (raised): none, one, two; ``held_object``: none, mug,
  phone; ``scale``: close, medium, far; ``border_cut``: yes/no (the person touches the top, left
  or right border; in a clip, in its first frame).
* ``lighting``: even, side, low_light, backlit; ``color_cast``: neutral, warm, cool, green;
  ``shadow``: yes/no (on the wall).
* ``background``: room, bricks, tiles, wood, stripes, noise, gradient; ``bg_people``: 0, 1, 2;
  ``color_match``: yes/no (background colours copied from the shirt or hair); ``defocus``: yes/no.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from seg.data.synthetic.lighting import LightSpec
    from seg.data.synthetic.specs import PersonSpec


def _accessory_name(person: PersonSpec) -> str:
    """The ``accessory`` attribute: none, glasses, headphones or glasses+headphones."""
    if person.glasses is not None and person.headphones is not None:
        return "glasses+headphones"
    if person.glasses is not None:
        return "glasses"
    if person.headphones is not None:
        return "headphones"
    return "none"


def scene_attributes(
    person: PersonSpec, light: LightSpec, background: dict[str, str]
) -> dict[str, str]:
    """The attributes of a scene, in manifest column order (all but ``border_cut``).

    Args:
        person: The foreground person.
        light: The scene's light.
        background: The background's attributes (``background``, ``bg_people``,
            ``color_match``, ``defocus``).

    Returns:
        Attribute name to categorical value.
    """
    return {
        "skin_tone": person.tone,
        "hair": person.hair.style,
        "hair_color": person.hair.color_name,
        "flyaways": person.hair.flyaways,
        "clothing": person.pattern,
        "accessory": _accessory_name(person),
        "hands": ("none", "one", "two")[len(person.hands)],
        "held_object": next((h.held for h in person.hands if h.held != "none"), "none"),
        "scale": person.scale_name,
        "lighting": light.kind,
        "color_cast": light.cast,
        "shadow": "yes" if light.shadow is not None else "no",
        **background,
    }


def with_border_cut(attributes: dict[str, str], mask: np.ndarray) -> dict[str, str]:
    """Adds ``border_cut``: whether the person touches the top, left or right border.

    Args:
        attributes: The scene's attributes.
        mask: ``H x W`` hard mask of the (first) frame.

    Returns:
        A new dictionary with ``border_cut`` appended.
    """
    cut = bool(mask[0].any() or mask[:, 0].any() or mask[:, -1].any())
    return {**attributes, "border_cut": "yes" if cut else "no"}
