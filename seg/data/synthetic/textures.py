"""Wall textures, drawn at output resolution: gradients, noise, stripes, bricks, tiles, wood.

Every texture is ``texture(rng, h, w, base_colour) -> h x w x 3 uint8``; :data:`TEXTURES` maps the
``background`` attribute values (except ``room``) to them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from seg.data.synthetic.palette import Color, hsv_color, jitter_color, mix_colors, scale_color


def _linear_ramp(h: int, w: int, angle: float) -> np.ndarray:
    """A ``h x w`` float32 ramp in ``[0, 1]`` along ``angle``."""
    ys = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    xs = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]
    ramp = xs * math.cos(angle) * (w / max(h, w)) + ys * math.sin(angle) * (h / max(h, w))
    ramp -= ramp.min()
    return ramp / max(float(ramp.max()), 1e-6)


def blend_colors(a: Color, b: Color, t: np.ndarray) -> np.ndarray:
    """Per-pixel mix of two colours by a weight map.

    Args:
        a: Colour where ``t = 0``.
        b: Colour where ``t = 1``.
        t: ``h x w`` weights in ``[0, 1]``.

    Returns:
        An ``h x w x 3`` uint8 RGB image.
    """
    t8 = np.ascontiguousarray(np.clip(t * 255.0 + 0.5, 0, 255).astype(np.uint8))
    ramp = np.linspace(0.0, 1.0, 256)[:, None]
    ca, cb = np.asarray(a), np.asarray(b)
    lut = np.clip(ca + ramp * (cb - ca), 0, 255).astype(np.uint8).reshape(1, 256, 3)
    return cv2.LUT(cv2.merge([t8, t8, t8]), lut)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Smooth value noise in ``[0, 1]``, ``cells`` blobs across the longer side."""
    gh = max(2, round(cells * h / max(h, w)))
    gw = max(2, round(cells * w / max(h, w)))
    grid = rng.random((gh, gw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC).clip(0.0, 1.0)


def texture_gradient(rng: np.random.Generator, h: int, w: int, base: Color) -> np.ndarray:
    """A plain wall: a linear gradient with a little low-frequency unevenness.

    Args:
        rng: Random generator.
        h: Height in pixels.
        w: Width in pixels.
        base: Main wall colour.

    Returns:
        An ``h x w x 3`` uint8 RGB image.
    """
    other = jitter_color(rng, scale_color(base, rng.uniform(0.5, 1.3)), 30)
    t = _linear_ramp(h, w, rng.uniform(0, 2 * math.pi))
    t = np.clip(t * 0.85 + 0.15 * _smooth_noise(rng, h, w, 4), 0, 1)
    return blend_colors(base, other, t)


def texture_noise(rng: np.random.Generator, h: int, w: int, base: Color) -> np.ndarray:
    """Blotchy two-octave value noise between two colours.

    Args:
        rng: Random generator.
        h: Height in pixels.
        w: Width in pixels.
        base: Main wall colour.

    Returns:
        An ``h x w x 3`` uint8 RGB image.
    """
    other = jitter_color(rng, scale_color(base, rng.uniform(0.4, 1.5)), 40)
    t = 0.6 * _smooth_noise(rng, h, w, int(rng.integers(3, 8)))
    t += 0.4 * _smooth_noise(rng, h, w, int(rng.integers(12, 40)))
    return blend_colors(base, other, t)


def _texture_stripes(rng: np.random.Generator, h: int, w: int, base: Color) -> np.ndarray:
    """Hard or soft stripes, horizontal, vertical or slanted."""
    other = hsv_color(rng.random(), rng.uniform(0.1, 0.7), rng.uniform(0.3, 0.95))
    angle = float(rng.choice([0.0, math.pi / 2, rng.uniform(0, math.pi)]))
    period = rng.uniform(0.03, 0.15) * max(h, w)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = (xs * math.cos(angle) + ys * math.sin(angle)) / period
    wave = np.sin(2 * math.pi * phase)
    t = (
        (wave > rng.uniform(-0.5, 0.5)).astype(np.float32)
        if rng.random() < 0.6
        else 0.5 + 0.5 * wave
    )
    return blend_colors(base, other, t)


def _cell_wall(
    rng: np.random.Generator,
    size: tuple[int, int],
    cell: tuple[int, int],
    staggered: bool,
    colors: tuple[Color, Color, Color],
    gap: int,
    jitter: float,
) -> np.ndarray:
    """A wall of rectangular cells (bricks, tiles) with per-cell colour jitter and grout lines.

    Args:
        rng: Random generator.
        size: ``(h, w)`` of the image.
        cell: ``(cell_h, cell_w)`` in pixels.
        staggered: Shift every other row by half a cell (brick bond).
        colors: ``(base, grout, checker)``; ``checker`` colours alternate cells when it differs
            from ``base``.
        gap: Grout width in pixels.
        jitter: Per-cell colour jitter (see :func:`jitter_color`).
    """
    h, w = size
    cell_h, cell_w = cell
    base, grout, checker = colors
    rows, cols = h // cell_h + 1, w // cell_w + 2
    gain = 1.0 + rng.uniform(-jitter, jitter, (rows, cols, 1)) / 100.0
    grid = np.asarray(base) * gain + rng.uniform(-jitter, jitter, (rows, cols, 3))
    if checker != base:
        grid[(np.arange(rows)[:, None] + np.arange(cols)[None, :]) % 2 == 1] = checker
    big = cv2.resize(
        np.clip(grid, 0, 255).astype(np.uint8),
        (cols * cell_w, rows * cell_h),
        interpolation=cv2.INTER_NEAREST,
    )
    for c in range(cols):
        cv2.rectangle(big, (c * cell_w, 0), (c * cell_w + gap - 1, rows * cell_h), grout, -1)
    for r in range(rows):
        cv2.rectangle(big, (0, r * cell_h), (cols * cell_w, r * cell_h + gap - 1), grout, -1)
    if not staggered:
        return np.ascontiguousarray(big[:h, :w])
    img = np.empty((h, w, 3), np.uint8)
    for r in range(rows):
        y0, y1 = r * cell_h, min(h, (r + 1) * cell_h)
        shift = (cell_w // 2) * (r % 2)
        img[y0:y1] = big[y0:y1, shift : shift + w]
    return img


def _texture_bricks(rng: np.random.Generator, h: int, w: int, base: Color) -> np.ndarray:
    """Staggered bricks with light or dark mortar."""
    mortar = jitter_color(rng, (200, 195, 185) if rng.random() < 0.7 else (90, 90, 90), 15)
    bh = max(3, round(rng.uniform(0.04, 0.1) * h))
    bw = round(bh * rng.uniform(2.0, 3.2))
    gap = max(1, round(bh * 0.15))
    return _cell_wall(rng, (h, w), (bh, bw), True, (base, mortar, base), gap, 18)


def _texture_tiles(rng: np.random.Generator, h: int, w: int, base: Color) -> np.ndarray:
    """Square tiles, sometimes in a checker pattern."""
    grout = jitter_color(rng, scale_color(base, rng.uniform(0.5, 0.8)), 10)
    size = max(4, round(rng.uniform(0.06, 0.16) * h))
    checker = jitter_color(rng, base, 35) if rng.random() < 0.4 else base
    return _cell_wall(
        rng, (h, w), (size, size), False, (base, grout, checker), max(1, size // 12), 6
    )


def _texture_wood(rng: np.random.Generator, h: int, w: int, base: Color) -> np.ndarray:
    """Wood planks with wavy grain and seams, vertical or horizontal."""
    wood = hsv_color(rng.uniform(0.05, 0.1), rng.uniform(0.35, 0.7), rng.uniform(0.35, 0.8))
    base = mix_colors(base, wood, 0.8)
    vertical = rng.random() < 0.6
    length, across = (h, w) if vertical else (w, h)
    plank = max(4, round(rng.uniform(0.06, 0.18) * max(h, w)))
    along = np.linspace(0, 1, length, dtype=np.float32)[:, None]
    pos = np.arange(across, dtype=np.float32)[None, :]
    warp = cv2.resize(rng.random((4, max(2, across // 8))).astype(np.float32), (across, length))
    grain = 0.5 + 0.5 * np.sin(pos * rng.uniform(0.6, 1.6) + 6.0 * warp + 3.0 * along)
    shade = np.repeat(rng.uniform(0.8, 1.15, size=across // plank + 1), plank)[None, :across]
    t = grain * 0.35 + (1.0 - shade) * 1.5
    seam = (np.arange(across) % plank) == 0
    t = np.where(seam[None, :], 1.0, t)
    if not vertical:
        t = t.T
    return blend_colors(base, scale_color(base, 0.55), np.clip(t, 0, 1))


# The ``background`` attribute values with a plain texture (``room`` adds clutter).
TEXTURES: dict[str, Callable[[np.random.Generator, int, int, Color], np.ndarray]] = {
    "gradient": texture_gradient,
    "noise": texture_noise,
    "stripes": _texture_stripes,
    "bricks": _texture_bricks,
    "tiles": _texture_tiles,
    "wood": _texture_wood,
}
