"""Hair: seven styles (polygons in head-local units), strand texture and flyaways.

Styles are bald, buzz, short, long, bun, curly and ponytail, with a rough outline, bangs and front
locks. *Flyaways* are thin 1-2 px curves that start inside the hair and leave it; they are drawn
into the mask and are the hardest boundary detail.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from seg.data.synthetic.canvas import (
    SHIFT,
    Painter,
    curves_to_fixed_point,
    detail_line_type,
    solid_image,
)
from seg.data.synthetic.geometry import LocalFrame, bezier, bezier_batch, ellipse_points, mirror_x
from seg.data.synthetic.palette import Color, jitter_color, mix_colors, scale_color
from seg.data.synthetic.sampling import choice
from seg.data.synthetic.specs import HairSpec

_HAIR_COLORS: dict[str, tuple[Color, ...]] = {
    "black": ((22.0, 18.0, 17.0), (38.0, 30.0, 27.0)),
    "brown": ((66.0, 42.0, 28.0), (112.0, 76.0, 48.0)),
    "blonde": ((190.0, 152.0, 98.0), (222.0, 192.0, 138.0)),
    "red": ((136.0, 58.0, 30.0), (170.0, 88.0, 46.0)),
    "gray": ((128.0, 126.0, 124.0), (196.0, 194.0, 190.0)),
    "dyed": ((118.0, 42.0, 140.0), (44.0, 82.0, 170.0), (198.0, 72.0, 120.0), (40.0, 138.0, 128.0)),
}
_HAIR_STYLES = ("bald", "buzz", "short", "long", "bun", "curly", "ponytail")
_HAIR_STYLE_P = (0.07, 0.09, 0.27, 0.26, 0.1, 0.12, 0.09)


def _rough(rng: np.random.Generator, amount: float) -> Callable[[np.ndarray], np.ndarray]:
    """Returns a smooth random radial perturbation ``f(theta)`` of relative size ``amount``."""
    freqs = rng.integers(3, 14, size=4)
    amps = rng.uniform(0.2, 1.0, size=4) * amount
    phases = rng.uniform(0, 2 * math.pi, size=4)

    def f(t: np.ndarray) -> np.ndarray:
        return sum(a * np.sin(k * t + p) for a, k, p in zip(amps, freqs, phases, strict=True))

    return f


def _hair_cap(
    rng: np.random.Generator, aspect: float, volume: float, rough: float, bangs: bool
) -> tuple[np.ndarray, np.ndarray, float]:
    """Hair covering the top of the head down to the ears.

    Returns:
        The polygon, its outer outline (for flyaways) and the forehead hairline height.
    """
    f = _rough(rng, rough)
    side = rng.uniform(0.05, 0.3)  # how far below the ear top the sides reach
    t = np.linspace(math.pi - side, 2 * math.pi + side, 40)
    r = 1.0 + f(t)
    outer = np.stack(
        [(aspect + volume) * np.cos(t) * r, (1.0 + volume) * np.sin(t) * r - 0.2 * volume], axis=1
    )
    hairline = -rng.uniform(0.22, 0.38) if bangs else -rng.uniform(0.45, 0.62)
    part = rng.uniform(-0.15, 0.15)
    xs = np.linspace(aspect * 0.97, -aspect * 0.97, 15)
    u = xs / aspect
    ys = hairline + part * u + (0.12 if bangs else 0.28) * u**2 * (1 - hairline) / 1.5
    ys[0] = ys[-1] = 0.06 + side * 0.3
    if bangs:
        ys[1:-1] += rng.uniform(-0.05, 0.09, size=13) * (np.arange(13) % 2)
    inner = np.stack([xs, ys], axis=1)
    return np.concatenate([outer, inner]), outer, hairline


def _hair_long_back(
    rng: np.random.Generator, aspect: float, volume: float, length: float, rough: float
) -> tuple[np.ndarray, np.ndarray]:
    """Long hair behind the head and shoulders, with a ragged tip line."""
    f = _rough(rng, rough)
    spread = rng.uniform(0.05, 0.55)
    top_t = np.linspace(math.pi, 2 * math.pi, 24)
    top = np.stack(
        [(aspect + volume) * np.cos(top_t), (1 + volume) * np.sin(top_t) * (1 + f(top_t))], axis=1
    )
    right = bezier(
        (aspect + volume, 0.0),
        (aspect + volume + spread * 0.3, length * 0.5),
        (aspect + volume * 0.5 + spread, length),
        10,
    )
    tips = int(rng.integers(4, 11))
    tx = np.linspace(right[-1, 0], -right[-1, 0], 2 * tips + 1)
    ty = length - np.where(np.arange(2 * tips + 1) % 2 == 1, rng.uniform(0.1, 0.6), 0.0)
    ty = ty + rng.uniform(-0.15, 0.15, size=ty.shape)
    bottom = np.stack([tx, ty], axis=1)
    left = mirror_x(right)
    poly = np.concatenate([top, right, bottom[1:-1], left])
    return poly, np.concatenate([left, top, right, bottom])


def _hair_front_locks(
    rng: np.random.Generator, aspect: float, length: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Locks falling in front of the shoulders on one or both sides of the face."""
    locks: list[np.ndarray] = []
    outlines: list[np.ndarray] = []
    sides = [1, -1] if rng.random() < 0.6 else [int(rng.choice([-1, 1]))]
    for s in sides:
        width = rng.uniform(0.25, 0.45)
        end = length * rng.uniform(0.65, 0.95)
        outer = bezier((aspect * 0.95, -0.45), (aspect + 0.35, 0.4), (aspect + 0.1 + width, end), 9)
        inner = bezier(
            (aspect + width * 0.4, end - 0.1), (aspect * 0.98, 0.5), (aspect * 0.7, -0.5), 9
        )
        poly = np.concatenate([outer, inner]) * np.array([s, 1.0])
        locks.append(poly)
        outlines.append(outer * np.array([s, 1.0]))
    return locks, outlines


def _hair_curly(rng: np.random.Generator, aspect: float) -> np.ndarray:
    """A voluminous curly silhouette: a scalloped outline around and behind the head."""
    grow = rng.uniform(1.15, 1.45)
    bottom = rng.uniform(0.3, 1.4)
    bumps = int(rng.integers(9, 18))
    phase = rng.uniform(0, math.pi)
    t = np.linspace(math.pi * 0.62, math.pi * 2.38, 90)
    r = 1.0 + 0.09 * np.abs(np.sin(bumps * t / 2 + phase)) + rng.uniform(-0.02, 0.02, size=t.shape)
    x = aspect * grow * np.cos(t) * r
    y = grow * np.sin(t) * r - 0.1
    y = np.where(np.sin(t) > 0, np.minimum(y, bottom) + (y - np.minimum(y, bottom)) * 0.3, y)
    return np.stack([x, y], axis=1)


def _sample_hair_color(rng: np.random.Generator, tone: str) -> tuple[str, Color]:
    """A hair colour name and value; deeper skin tones get mostly black or brown hair."""
    deep = tone in ("tone4", "tone5", "tone6")
    p = (0.6, 0.26, 0.02, 0.02, 0.06, 0.04) if deep else (0.25, 0.3, 0.17, 0.1, 0.1, 0.08)
    name = choice(rng, list(_HAIR_COLORS), p)
    options = _HAIR_COLORS[name]
    base = options[int(rng.integers(len(options)))]
    return name, jitter_color(rng, base, 8.0)


def sample_hair(rng: np.random.Generator, tone: str, aspect: float, difficulty: float) -> HairSpec:
    """Samples a hair style, colour, polygons (head-local units) and flyaway strands.

    Args:
        rng: Random generator.
        tone: Skin-tone group; deeper tones get mostly black or brown hair.
        aspect: Head half-width over half-height.
        difficulty: Scales the expected number of flyaways.

    Returns:
        The hair, with polygons in head-local units.
    """
    color_name, color = _sample_hair_color(rng, tone)
    style = choice(rng, _HAIR_STYLES, _HAIR_STYLE_P)
    back: list[np.ndarray] = []
    front: list[np.ndarray] = []
    outline: list[np.ndarray] = []
    hairline = -0.75
    rough = rng.uniform(0.0, 0.04)
    if style == "buzz":
        cap, _, hairline = _hair_cap(rng, aspect, rng.uniform(0.015, 0.03), 0.0, False)
        front.append(cap)
    elif style == "short":
        cap, cap_outline, hairline = _hair_cap(
            rng, aspect, rng.uniform(0.06, 0.2), rough, rng.random() < 0.35
        )
        front.append(cap)
        outline = [cap_outline]
    elif style == "long":
        volume = rng.uniform(0.05, 0.16)
        length = rng.uniform(1.6, 4.2)
        poly, back_outline = _hair_long_back(rng, aspect, volume, length, rough)
        back.append(poly)
        cap, cap_outline, hairline = _hair_cap(rng, aspect, volume, rough, rng.random() < 0.35)
        front.append(cap)
        outline = [back_outline, cap_outline]
        if rng.random() < 0.65:
            locks, lock_outlines = _hair_front_locks(rng, aspect, length)
            front.extend(locks)
            outline.extend(lock_outlines)
    elif style == "bun":
        bx = rng.uniform(-0.35, 0.35)
        by = -rng.uniform(0.95, 1.2)
        rad = rng.uniform(0.25, 0.4)
        bun = ellipse_points(bx, by, rad, rad * rng.uniform(0.8, 1.0), 24)
        back.append(bun)
        cap, cap_outline, hairline = _hair_cap(rng, aspect, rng.uniform(0.03, 0.07), rough, False)
        front.append(cap)
        outline = [cap_outline, bun]
    elif style == "curly":
        mass = _hair_curly(rng, aspect)
        back.append(mass)
        outline = [mass]
        cap, _, hairline = _hair_cap(rng, aspect, 0.1, 0.05, rng.random() < 0.5)
        front.append(cap)
    elif style == "ponytail":
        s = float(rng.choice([-1.0, 1.0]))
        length = rng.uniform(1.3, 2.6)
        tail_r = bezier((aspect * 0.4, -0.75), (aspect + 0.55, -0.2), (aspect + 0.3, length), 10)
        tail_l = bezier(
            (aspect + 0.05, length - 0.2), (aspect + 0.25, 0.0), (aspect * 0.4, -0.4), 10
        )
        tail = np.concatenate([tail_r, tail_l]) * np.array([s, 1.0])
        back.append(tail)
        cap, cap_outline, hairline = _hair_cap(rng, aspect, rng.uniform(0.03, 0.07), rough, False)
        front.append(cap)
        outline = [cap_outline, tail_r * np.array([s, 1.0])]
    n_strands = 0
    if style not in ("bald", "buzz"):
        n_strands = int(rng.poisson(difficulty * rng.uniform(2.0, 30.0)))
    strand_curves, strand_width = _flyaway_curves(rng, outline, n_strands)
    stroke_curves, stroke_shade = _hair_stroke_curves(rng, style)
    return HairSpec(
        style=style,
        color_name=color_name,
        color=color,
        back=back,
        front=front,
        hairline=hairline,
        top=max([1.0] + [-float(poly[:, 1].min()) for poly in front]),
        strand_curves=strand_curves,
        strand_width=strand_width,
        stroke_curves=stroke_curves,
        stroke_shade=stroke_shade,
        flyaways="none" if n_strands == 0 else ("few" if n_strands <= 8 else "many"),
    )


def _flyaway_curves(
    rng: np.random.Generator, outlines: list[np.ndarray], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Thin curves that start inside the hair outlines and leave them (head-local units).

    Returns:
        ``K x 7 x 2`` curve points and ``K`` widths in output pixels.
    """
    if n == 0 or not outlines:
        return np.zeros((0, 7, 2)), np.zeros(0)
    a = np.concatenate([o[:-1] for o in outlines])
    b = np.concatenate([o[1:] for o in outlines])
    seg = np.linalg.norm(b - a, axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    d = rng.random(n) * cum[-1]
    i = np.clip(np.searchsorted(cum, d) - 1, 0, len(seg) - 1)
    tangent = (b[i] - a[i]) / np.maximum(seg[i], 1e-9)[:, None]
    start = a[i] + tangent * (d - cum[i])[:, None]
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal[(normal * start).sum(axis=1) < 0] *= -1.0  # point away from the head centre
    angle = rng.uniform(-0.8, 0.8, n)
    c, s = np.cos(angle), np.sin(angle)
    direction = np.stack(
        [c * normal[:, 0] - s * normal[:, 1], s * normal[:, 0] + c * normal[:, 1]], 1
    )
    length = rng.uniform(0.06, 0.32, n)[:, None]
    bend = rng.uniform(-0.8, 0.8, n)[:, None]
    start = start - direction * 0.05
    end = start + direction * length
    ctrl = (start + end) / 2 + np.stack([-direction[:, 1], direction[:, 0]], 1) * bend * length
    return bezier_batch(start, ctrl, end, 7), rng.uniform(0.4, 1.3, n)


def _hair_stroke_curves(rng: np.random.Generator, style: str) -> tuple[np.ndarray, np.ndarray]:
    """Texture strokes fanning out from the crown (head-local units), in three shade groups.

    Returns:
        ``K x 8 x 2`` curve points and ``K`` shade-group indices in ``{0, 1, 2}``.
    """
    n = int(rng.integers(24, 48))
    spread = 2.2 if style in ("long", "ponytail") else 1.9
    angle = rng.uniform(-spread, spread, n) + math.pi / 2
    reach = rng.uniform(0.5, 1.0, n)[:, None] * (3.5 if style == "long" else 2.2)
    crown = np.tile([[0.0, -1.05]], (n, 1))
    unit = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    end = crown + reach * unit
    ctrl = (crown + end) / 2 + 0.3 * np.stack([np.cos(angle), -np.abs(np.sin(angle))], axis=1)
    return bezier_batch(crown, ctrl, end, 8), rng.integers(0, 3, n)


def hair_texture(
    hair: HairSpec, head: LocalFrame, px: float
) -> Callable[[int, int, int, int], np.ndarray]:
    """Hair texture: strokes fanning out from the crown in darker and lighter shades.

    Args:
        hair: The hair.
        head: Head-local frame (head units to canvas pixels).
        px: Canvas pixels per output pixel.

    Returns:
        ``texture(h, w, x0, y0)`` for :meth:`Painter.fill_textured`.
    """
    curves = head(hair.stroke_curves.reshape(-1, 2)).reshape(hair.stroke_curves.shape)
    shades = (
        scale_color(hair.color, 0.62),
        scale_color(hair.color, 0.8),
        mix_colors(hair.color, (255, 255, 255), 0.14),
    )
    width = max(1, round(0.5 * px))  # thick cv2 lines are slow; 1 px at supersample 2
    line = detail_line_type(px)

    def texture(h: int, w: int, x0: int, y0: int) -> np.ndarray:
        patch = solid_image(h, w, hair.color)
        local = curves - np.array([x0, y0])
        for group, color in enumerate(shades):
            sel = local[hair.stroke_shade == group]
            cv2.polylines(patch, curves_to_fixed_point(sel), False, color, width, line, SHIFT)
        return patch

    return texture


def draw_strands(p: Painter, hair: HairSpec, head: LocalFrame, px: float) -> None:
    """Flyaways: thin curves leaving the hair outline, drawn into the mask.

    Args:
        p: Painter.
        hair: The hair.
        head: Head-local frame.
        px: Canvas pixels per output pixel (strand widths are in output pixels).
    """
    if len(hair.strand_curves) == 0:
        return
    curves = head(hair.strand_curves.reshape(-1, 2)).reshape(hair.strand_curves.shape)
    widths = np.maximum(1, np.round(hair.strand_width * px)).astype(int)
    color = mix_colors(hair.color, (255, 255, 255), 0.15)  # thin strands catch the light
    for width in np.unique(widths):
        p.strokes(curves[widths == width], color, int(width))
