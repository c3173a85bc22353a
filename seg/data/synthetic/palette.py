"""Colours: the RGB colour type, colour arithmetic and random clothing and wall colours."""

from __future__ import annotations

import colorsys
from collections.abc import Sequence

import numpy as np

Color = tuple[float, float, float]


def _clip_color(c: Sequence[float]) -> Color:
    """Clamps each channel of a colour to ``[0, 255]``."""
    return (
        float(min(255.0, max(0.0, c[0]))),
        float(min(255.0, max(0.0, c[1]))),
        float(min(255.0, max(0.0, c[2]))),
    )


def scale_color(c: Sequence[float], f: float) -> Color:
    """Darkens (``f < 1``) or brightens (``f > 1``) a colour.

    Args:
        c: RGB colour.
        f: Gain applied to every channel.

    Returns:
        The scaled colour, clamped to ``[0, 255]``.
    """
    return _clip_color((c[0] * f, c[1] * f, c[2] * f))


def mix_colors(a: Sequence[float], b: Sequence[float], t: float) -> Color:
    """Linearly interpolates two colours.

    Args:
        a: Colour at ``t = 0``.
        b: Colour at ``t = 1``.
        t: Weight of ``b``.

    Returns:
        The mixed colour, clamped to ``[0, 255]``.
    """
    return _clip_color([a[i] * (1 - t) + b[i] * t for i in range(3)])


def jitter_color(rng: np.random.Generator, c: Sequence[float], amount: float) -> Color:
    """Perturbs a colour by a global gain and a per-channel offset.

    Args:
        rng: Random generator (four uniform draws).
        c: RGB colour.
        amount: Gain jitter in percent and offset jitter in levels, both ``+-amount``.

    Returns:
        The perturbed colour, clamped to ``[0, 255]``.
    """
    r = rng.uniform(-amount, amount, 4)
    gain = 1.0 + r[0] / 100.0
    return _clip_color([c[0] * gain + r[1], c[1] * gain + r[2], c[2] * gain + r[3]])


def hsv_color(h: float, s: float, v: float) -> Color:
    """Converts an HSV colour to RGB.

    Args:
        h: Hue, wrapped to ``[0, 1)``.
        s: Saturation in ``[0, 1]``.
        v: Value in ``[0, 1]``.

    Returns:
        RGB in ``[0, 255]``.
    """
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return (r * 255.0, g * 255.0, b * 255.0)


def random_cloth_color(rng: np.random.Generator) -> Color:
    """Clothing colour: many neutrals (black, white, grey, navy), otherwise any hue."""
    u = rng.random()
    if u < 0.14:
        return hsv_color(0, 0, rng.uniform(0.08, 0.2))
    if u < 0.24:
        return hsv_color(0, 0, rng.uniform(0.8, 0.96))
    if u < 0.34:
        return hsv_color(0, 0, rng.uniform(0.35, 0.65))
    if u < 0.42:
        return hsv_color(rng.uniform(0.58, 0.66), rng.uniform(0.4, 0.8), rng.uniform(0.2, 0.45))
    return hsv_color(rng.random(), rng.uniform(0.25, 0.9), rng.uniform(0.3, 0.95))


def random_wall_color(rng: np.random.Generator) -> Color:
    """Wall colour: mostly pale neutrals and pastels, sometimes dark or saturated."""
    u = rng.random()
    if u < 0.45:
        return hsv_color(rng.uniform(0.05, 0.15), rng.uniform(0.02, 0.2), rng.uniform(0.72, 0.95))
    if u < 0.75:
        return hsv_color(rng.random(), rng.uniform(0.08, 0.35), rng.uniform(0.55, 0.9))
    return hsv_color(rng.random(), rng.uniform(0.1, 0.7), rng.uniform(0.18, 0.55))
