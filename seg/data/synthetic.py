"""Procedural video-call portraits with exact masks, so seg trains offline with no download.

Every frame shows one person as seen from a webcam, drawn from random geometry:

* **Person (foreground, mask 1).** Head (ellipse with jaw and chin variation, ears, turned a little
  by a yaw offset of the facial features), neck, curved shoulders and torso, clothes (plain,
  stripes, checks, logo, open jacket, hoodie; round, V or shirt collar), hanging arms, and hair in
  seven styles (bald, buzz, short, long, bun, curly, ponytail) with a rough outline, bangs, front
  locks and *flyaways*: thin 1-2 px curves that leave the hair mass. Optional raised hands (open,
  waving, partly out of frame) with separate fingers, glasses, headphones (band over the head and
  ear cups) and held objects. **Held objects (mug, phone) are foreground**, as in common portrait
  matting/segmentation datasets: they are held by the person and move with them.
  Six skin-tone groups (``tone1`` light to ``tone6`` deep) are recorded for fairness breakdowns.
* **Background (mask 0).** Textures (blotchy noise, stripes, bricks, tiles, wood planks,
  gradients) or rooms (walls, corners, doors, windows, shelves with books, frames, plants, lamps,
  monitors, chair backs), far-away people (smaller, defocused, still background) and, sometimes,
  colours copied from the person's shirt or hair.
* **Camera and light.** Side key light, low light (dark, noisy, warm), backlight (a bright window
  behind a dark person with a rim light), colour casts, contrast/brightness, vignetting, a soft
  shadow of the person on the wall, webcam defocus of the background, sensor noise.

Why it is hard enough for a small student: flyaways, fingers, glasses temples, headphone bands
and mug handles are thin structures at the boundary; background people have the same shape prior
as the target but must be rejected; colour-matched walls and chairs, backlight and low light
remove the easy colour cue; partial occlusion by the frame border and hands breaks the
"one blob in the middle" prior.

Exactness. The foreground is painted at ``supersample`` times the output resolution onto a colour
canvas and a binary mask canvas with *the same* cv2 primitives and fixed-point sub-pixel
coordinates. The canvases are area-downsampled (``cv2.INTER_AREA``): the soft ``alpha`` is the
downsampled mask (exact sub-pixel coverage), ``mask = alpha >= 0.5``, and the image is
``foreground * alpha + background * (1 - alpha)`` where ``foreground * alpha`` is the area average
of the masked high-resolution colour (the coverage-weighted colour of the person inside each output
pixel). Lighting only changes colours, never coverage, so the mask stays exact.

Determinism. Each sample draws from ``np.random.default_rng(SeedSequence([seed, crc32(split),
index, kind]))``: no global RNG state, no Python ``hash()``, so splits are disjoint seed streams and
any process reproduces the same bytes (for the same numpy and OpenCV versions).

Attributes (all categorical strings, one manifest column each):

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

import colorsys
import functools
import math
import numbers
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

__all__ = ["SPLITS", "PortraitClip", "PortraitSample", "SyntheticPortraitGenerator"]

SPLITS: tuple[str, ...] = ("train", "val", "test")

_SHIFT = 4  # fractional bits of cv2 drawing coordinates (1/16 px), for sub-pixel smooth motion
_ONE = 1 << _SHIFT
_KIND_FRAME = 0
_KIND_CLIP = 1
_MIN_FG = 0.05
_MAX_FG = 0.80
_MAX_ATTEMPTS = 30
_MAX_ASPECT = 4  # wider strips cannot hold a person covering 5% of the frame
_CLIP_MARGIN = 0.12  # background canvas margin (fraction of each side) for camera pan/zoom

Color = tuple[float, float, float]
Blob = tuple[float, float, float, float, float, float]  # cx, cy, ax, ay, angle_deg, delta

_SKIN_TONES: dict[str, Color] = {
    "tone1": (242.0, 212.0, 192.0),
    "tone2": (228.0, 184.0, 150.0),
    "tone3": (202.0, 150.0, 112.0),
    "tone4": (170.0, 118.0, 82.0),
    "tone5": (126.0, 82.0, 54.0),
    "tone6": (84.0, 54.0, 38.0),
}
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
_PATTERNS = ("plain", "stripes", "checks", "logo", "jacket", "hoodie")
_PATTERN_P = (0.36, 0.16, 0.1, 0.1, 0.16, 0.12)
_BACKGROUNDS = ("room", "bricks", "tiles", "wood", "stripes", "noise", "gradient")
_BACKGROUND_P = (0.46, 0.09, 0.08, 0.09, 0.09, 0.1, 0.09)
# Framing: head half-height (fraction of min(height, 1.3 * width)) and head-centre height.
_SCALES: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "close": ((0.28, 0.44), (0.4, 0.62)),
    "medium": ((0.18, 0.28), (0.32, 0.5)),
    "far": ((0.09, 0.18), (0.24, 0.44)),
}
_LIGHTINGS = ("even", "side", "low_light", "backlit")
_CASTS: dict[str, Color] = {
    "neutral": (1.0, 1.0, 1.0),
    "warm": (1.1, 1.0, 0.84),
    "cool": (0.88, 0.98, 1.12),
    "green": (0.94, 1.06, 0.92),
}


@dataclass
class PortraitSample:
    """One rendered frame.

    Attributes:
        image: ``H x W x 3`` uint8 RGB image.
        mask: ``H x W`` uint8 hard mask in ``{0, 1}``, equal to ``alpha >= 0.5``.
        alpha: ``H x W`` float32 soft coverage in ``[0, 1]``.
        attributes: Categorical strings describing the sample (skin tone, hair, lighting, ...),
            meant to become manifest columns for per-group metrics.
    """

    image: np.ndarray
    mask: np.ndarray
    alpha: np.ndarray
    attributes: dict[str, str]


@dataclass
class PortraitClip:
    """A short sequence of frames of the same person and background.

    Attributes:
        images: ``T x H x W x 3`` uint8 RGB images.
        masks: ``T x H x W`` uint8 hard masks in ``{0, 1}``.
        alphas: ``T x H x W`` float32 soft coverage in ``[0, 1]``.
        attributes: Categorical strings describing the clip (as for :class:`PortraitSample`).
    """

    images: np.ndarray
    masks: np.ndarray
    alphas: np.ndarray
    attributes: dict[str, str]


# --------------------------------------------------------------------------------------------
# Small geometry and colour helpers
# --------------------------------------------------------------------------------------------


def _fixed(pts: np.ndarray) -> np.ndarray:
    """Converts float pixel points to cv2 fixed-point int32 contours (``_SHIFT`` bits)."""
    return np.round(np.asarray(pts, dtype=np.float64).reshape(-1, 1, 2) * _ONE).astype(np.int32)


@functools.lru_cache(maxsize=128)
def _unit_arc(n: int, t0: float, t1: float) -> np.ndarray:
    """``n x 2`` points ``(cos t, sin t)`` from ``t0`` to ``t1`` (cached, read-only)."""
    t = np.linspace(t0, t1, n, endpoint=(t1 - t0) < 2 * math.pi - 1e-9)
    arc = np.stack([np.cos(t), np.sin(t)], axis=1)
    arc.flags.writeable = False
    return arc


def _ellipse_pts(
    cx: float,
    cy: float,
    ax: float,
    ay: float,
    n: int = 28,
    t0: float = 0.0,
    t1: float = 2 * math.pi,
) -> np.ndarray:
    """Returns ``n`` points on an axis-aligned ellipse arc from angle ``t0`` to ``t1``."""
    return _unit_arc(n, t0, t1) * np.array([ax, ay]) + np.array([cx, cy])


@functools.lru_cache(maxsize=32)
def _bezier_basis(n: int) -> np.ndarray:
    """``n x 3`` Bernstein weights of a quadratic Bezier curve (cached, read-only)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    basis = np.concatenate([(1 - t) ** 2, 2 * (1 - t) * t, t**2], axis=1)
    basis.flags.writeable = False
    return basis


def _bezier(
    p0: Sequence[float], p1: Sequence[float], p2: Sequence[float], n: int = 8
) -> np.ndarray:
    """Returns ``n`` points on the quadratic Bezier curve ``p0 -> p2`` with control ``p1``."""
    return _bezier_basis(n) @ np.array([p0, p1, p2], dtype=np.float64)


def _bezier_batch(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, n: int = 8) -> np.ndarray:
    """Quadratic Bezier curves for ``K x 2`` endpoint/control arrays; returns ``K x n x 2``."""
    return np.einsum("nk,kmd->mnd", _bezier_basis(n), np.stack([p0, p1, p2]))


def _mirror(pts: np.ndarray) -> np.ndarray:
    """Mirrors points across the vertical axis ``x = 0`` and reverses their order."""
    return (pts * np.array([-1.0, 1.0]))[::-1]


def _clip_color(c: Sequence[float]) -> Color:
    return (
        float(min(255.0, max(0.0, c[0]))),
        float(min(255.0, max(0.0, c[1]))),
        float(min(255.0, max(0.0, c[2]))),
    )


def _scale_color(c: Sequence[float], f: float) -> Color:
    return _clip_color((c[0] * f, c[1] * f, c[2] * f))


def _mix(a: Sequence[float], b: Sequence[float], t: float) -> Color:
    return _clip_color([a[i] * (1 - t) + b[i] * t for i in range(3)])


def _jitter(rng: np.random.Generator, c: Sequence[float], amount: float) -> Color:
    """Perturbs a colour by a global gain and a per-channel offset."""
    r = rng.uniform(-amount, amount, 4)
    gain = 1.0 + r[0] / 100.0
    return _clip_color([c[0] * gain + r[1], c[1] * gain + r[2], c[2] * gain + r[3]])


def _hsv(h: float, s: float, v: float) -> Color:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return (r * 255.0, g * 255.0, b * 255.0)


def _random_cloth_color(rng: np.random.Generator) -> Color:
    """Clothing colour: many neutrals (black, white, grey, navy), otherwise any hue."""
    u = rng.random()
    if u < 0.14:
        return _hsv(0, 0, rng.uniform(0.08, 0.2))
    if u < 0.24:
        return _hsv(0, 0, rng.uniform(0.8, 0.96))
    if u < 0.34:
        return _hsv(0, 0, rng.uniform(0.35, 0.65))
    if u < 0.42:
        return _hsv(rng.uniform(0.58, 0.66), rng.uniform(0.4, 0.8), rng.uniform(0.2, 0.45))
    return _hsv(rng.random(), rng.uniform(0.25, 0.9), rng.uniform(0.3, 0.95))


def _random_wall_color(rng: np.random.Generator) -> Color:
    """Wall colour: mostly pale neutrals and pastels, sometimes dark or saturated."""
    u = rng.random()
    if u < 0.45:
        return _hsv(rng.uniform(0.05, 0.15), rng.uniform(0.02, 0.2), rng.uniform(0.72, 0.95))
    if u < 0.75:
        return _hsv(rng.random(), rng.uniform(0.08, 0.35), rng.uniform(0.55, 0.9))
    return _hsv(rng.random(), rng.uniform(0.1, 0.7), rng.uniform(0.18, 0.55))


def _solid(h: int, w: int, rgb: Sequence[float]) -> np.ndarray:
    """An ``h x w x 3`` uint8 image of one colour (row copy: ``img[:] = rgb`` is ~50x slower)."""
    row = np.tile(np.round(np.asarray(rgb)).astype(np.uint8), w)
    return np.repeat(row[None], h, axis=0).reshape(h, w, 3)


def _choice(rng: np.random.Generator, options: Sequence[str], p: Sequence[float]) -> str:
    """Picks one option with (unnormalised) probabilities ``p``."""
    u = rng.random() * sum(p)
    for option, weight in zip(options, p, strict=True):
        u -= weight
        if u < 0:
            return option
    return options[-1]


# --------------------------------------------------------------------------------------------
# Drawing on a colour canvas and a mask canvas with the same geometry
# --------------------------------------------------------------------------------------------


def _detail_line(px: float) -> int:
    """Line type for colour-only details: anti-aliased unless the canvas is supersampled."""
    return cv2.LINE_8 if px >= 2 else cv2.LINE_AA


class _Painter:
    """Draws primitives on a colour canvas and, for foreground parts, on a mask canvas.

    Parts drawn with ``to_mask=True`` are rasterised on both canvases with the same fixed-point
    geometry and without anti-aliasing, so every mask pixel receives the part's colour. Interior
    details (facial features, patterns) are colour-only and may use anti-aliasing.
    """

    def __init__(self, color: np.ndarray, mask: np.ndarray | None, px: float) -> None:
        self.color = color
        self.mask = mask
        self.detail_line = _detail_line(px)

    def fill(self, pts: np.ndarray, rgb: Color, to_mask: bool = True) -> None:
        """Fills a polygon given as an ``N x 2`` array of pixel coordinates."""
        poly = [_fixed(pts)]
        masked = to_mask and self.mask is not None
        line = cv2.LINE_8 if masked else self.detail_line
        cv2.fillPoly(self.color, poly, rgb, line, _SHIFT)
        if masked:
            cv2.fillPoly(self.mask, poly, 1, cv2.LINE_8, _SHIFT)

    def stroke(
        self,
        pts: np.ndarray,
        rgb: Color,
        thickness: int,
        to_mask: bool = True,
        closed: bool = False,
    ) -> None:
        """Draws a polyline with round caps and the given integer thickness in canvas pixels."""
        poly = [_fixed(pts)]
        masked = to_mask and self.mask is not None
        line = cv2.LINE_8 if masked else self.detail_line
        cv2.polylines(self.color, poly, closed, rgb, max(1, thickness), line, _SHIFT)
        if masked:
            cv2.polylines(self.mask, poly, closed, 1, max(1, thickness), cv2.LINE_8, _SHIFT)

    def strokes(self, curves: np.ndarray, rgb: Color, thickness: int) -> None:
        """Draws ``K x N x 2`` open polylines of one colour and thickness into both canvases."""
        polys = _fixed_curves(curves)
        cv2.polylines(self.color, polys, False, rgb, thickness, cv2.LINE_8, _SHIFT)
        if self.mask is not None:
            cv2.polylines(self.mask, polys, False, 1, thickness, cv2.LINE_8, _SHIFT)

    def fill_textured(
        self, pts: np.ndarray, texture: Callable[[int, int, int, int], np.ndarray]
    ) -> None:
        """Fills a polygon with a texture made for its bounding box only.

        Args:
            pts: ``N x 2`` polygon in pixel coordinates.
            texture: ``texture(h, w, x0, y0)`` returns an ``h x w x 3`` uint8 patch for the box
                whose top-left canvas pixel is ``(x0, y0)``.
        """
        canvas_h, canvas_w = self.color.shape[:2]
        poly = _fixed(pts)
        x0 = max(0, int(poly[:, 0, 0].min() >> _SHIFT) - 1)
        y0 = max(0, int(poly[:, 0, 1].min() >> _SHIFT) - 1)
        x1 = min(canvas_w, int(poly[:, 0, 0].max() >> _SHIFT) + 2)
        y1 = min(canvas_h, int(poly[:, 0, 1].max() >> _SHIFT) + 2)
        if x1 <= x0 or y1 <= y0:
            return
        local = poly - np.array([x0 * _ONE, y0 * _ONE], dtype=np.int32)
        region = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(region, [local], 1, cv2.LINE_8, _SHIFT)
        patch = texture(y1 - y0, x1 - x0, x0, y0)
        cv2.copyTo(patch, region, self.color[y0:y1, x0:x1])  # writes into the canvas view
        if self.mask is not None:
            cv2.fillPoly(self.mask, [poly], 1, cv2.LINE_8, _SHIFT)


class _Frame:
    """A similarity transform from part-local units to canvas pixels.

    ``unit`` canvas pixels per local unit, rotation ``angle`` (radians, clockwise on screen) about
    the local point ``pivot_local`` which lands on ``pivot_world``.
    """

    def __init__(
        self,
        unit: float,
        angle: float,
        pivot_local: tuple[float, float],
        pivot_world: tuple[float, float],
    ) -> None:
        c, s = math.cos(angle), math.sin(angle)
        self.unit = unit
        self.angle = angle
        self._m = unit * np.array([[c, -s], [s, c]])
        self._t = np.asarray(pivot_world) - self._m @ np.asarray(pivot_local)

    def __call__(self, pts: np.ndarray | Sequence[float]) -> np.ndarray:
        return np.asarray(pts, dtype=np.float64) @ self._m.T + self._t

    def to_local(self, pts: np.ndarray) -> np.ndarray:
        """Inverse of the transform: canvas pixels to local units."""
        return (np.asarray(pts, dtype=np.float64) - self._t) @ np.linalg.inv(self._m).T

    def point(self, x: float, y: float) -> tuple[float, float]:
        p = self(np.array([x, y]))
        return float(p[0]), float(p[1])

    def blob(self, x: float, y: float, ax: float, ay: float, delta: float) -> Blob:
        """A shading ellipse given in local units, as a canvas-pixel blob."""
        cx, cy = self.point(x, y)
        return (cx, cy, ax * self.unit, ay * self.unit, math.degrees(self.angle), delta)


# --------------------------------------------------------------------------------------------
# Person specification (every random choice, so clips can redraw the same person)
# --------------------------------------------------------------------------------------------


@dataclass
class _HandSpec:
    """A raised hand and its arm (body-local units), possibly holding an object."""

    side: int  # -1: hand on the image-left side of the body, +1: right
    pos: tuple[float, float]  # hand centre, body-local units
    elbow: tuple[float, float]
    angle: float  # hand direction, radians from "fingers up", clockwise
    spread: float
    curl: float
    size: float
    held: str  # none / mug / phone
    object_color: Color
    wave_amp: float
    wave_freq: float
    wave_phase: float


@dataclass
class _HairSpec:
    """Every random choice about the hair, so that clips redraw the same hair every frame."""

    style: str
    color_name: str
    color: Color
    back: list[np.ndarray]  # polygons behind the head and body, head-local units
    front: list[np.ndarray]  # polygons in front of the face
    hairline: float  # forehead hairline height, head-local units
    top: float  # height of the front hair (or bald head) above the head centre
    strand_curves: np.ndarray  # K x 7 x 2 flyaways, head-local units
    strand_width: np.ndarray  # K widths in output pixels
    stroke_curves: np.ndarray  # K x 8 x 2 texture strokes, head-local units
    stroke_shade: np.ndarray  # K shade groups
    flyaways: str  # none / few / many


@dataclass
class _PersonSpec:
    """Every random choice about a person; lengths in head units (head half-height = 1)."""

    tone: str
    skin: Color
    hair: _HairSpec
    head_pts: np.ndarray  # face outline, head-local units
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
    beard: Color | None  # stubble (close to the skin) to full beard (hair colour)
    glasses: Color | None
    glasses_round: bool
    headphones: Color | None
    hands: list[_HandSpec]
    x: float  # head centre, fraction of the image width
    y: float  # head centre, fraction of the image height
    size: float  # head half-height, fraction of min(height, 1.3 * width)
    tilt: float
    lean: float
    scale_name: str


@dataclass
class _Pose:
    """Per-frame motion of a person (offsets in head units, angles in radians)."""

    dx: float = 0.0
    dy: float = 0.0
    tilt: float = 0.0
    lean: float = 0.0
    yaw: float = 0.0
    hand_t: float = 0.0  # time, drives waving
    mouth_open: float = 0.0
    blink: bool = False


def _head_outline(aspect: float, jaw: float, chin: float, n: int = 44) -> np.ndarray:
    """Face outline in head-local units (half-height 1): an ellipse with a narrower jaw and chin."""
    t = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    lower = np.clip(np.sin(t), 0.0, None)
    x = aspect * np.cos(t) * (1.0 - jaw * lower**2)
    y = np.sin(t) * (1.0 + chin * lower**4)
    return np.stack([x, y], axis=1)


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
    right = _bezier(
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
    left = _mirror(right)
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
        outer = _bezier(
            (aspect * 0.95, -0.45), (aspect + 0.35, 0.4), (aspect + 0.1 + width, end), 9
        )
        inner = _bezier(
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


def _sample_hair(
    rng: np.random.Generator, tone: str, aspect: float, difficulty: float
) -> _HairSpec:
    """Samples a hair style, colour, polygons (head-local units) and flyaway strands."""
    color_name, color = _sample_hair_color(rng, tone)
    style = _choice(rng, _HAIR_STYLES, _HAIR_STYLE_P)
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
        bun = _ellipse_pts(bx, by, rad, rad * rng.uniform(0.8, 1.0), 24)
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
        tail_r = _bezier((aspect * 0.4, -0.75), (aspect + 0.55, -0.2), (aspect + 0.3, length), 10)
        tail_l = _bezier(
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
    return _HairSpec(
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
    return _bezier_batch(start, ctrl, end, 7), rng.uniform(0.4, 1.3, n)


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
    return _bezier_batch(crown, ctrl, end, 8), rng.integers(0, 3, n)


def _sample_hand(
    rng: np.random.Generator, side: int, shoulder_w: float, may_hold: bool
) -> _HandSpec:
    """A raised hand: next to the head (waving/gesturing) or holding an object at the chest."""
    held = "none"
    if may_hold:
        held = _choice(rng, ("none", "mug", "phone"), (0.5, 0.25, 0.25))
    if held == "none":
        pos = (side * rng.uniform(1.0, 2.6), rng.uniform(-1.0, 1.8))
        elbow = (pos[0] + side * rng.uniform(0.3, 1.3), pos[1] + rng.uniform(2.0, 3.0))
        angle = side * rng.uniform(-0.2, 0.6)
    else:
        pos = (side * rng.uniform(0.1, 1.4), rng.uniform(1.7, 3.2))
        elbow = (side * (shoulder_w + rng.uniform(0.0, 0.8)), pos[1] + rng.uniform(1.6, 2.6))
        angle = side * rng.uniform(-0.3, 0.3)
    waving = held == "none" and rng.random() < 0.5
    return _HandSpec(
        side=side,
        pos=pos,
        elbow=elbow,
        angle=angle,
        spread=rng.uniform(0.0, 1.0),
        curl=rng.uniform(0.0, 0.7) if rng.random() < 0.4 else 0.0,
        size=rng.uniform(0.85, 1.1),
        held=held,
        object_color=_random_cloth_color(rng),
        wave_amp=rng.uniform(0.25, 0.5) if waving else rng.uniform(0.0, 0.08),
        wave_freq=rng.uniform(0.15, 0.35),
        wave_phase=rng.uniform(0, 2 * math.pi),
    )


def _sample_skin(rng: np.random.Generator) -> tuple[str, Color]:
    """A skin-tone group (uniform over the six) and a jittered colour within it."""
    tone = str(rng.choice(list(_SKIN_TONES)))
    return tone, _jitter(rng, _SKIN_TONES[tone], 7.0)


def _sample_hair_color(rng: np.random.Generator, tone: str) -> tuple[str, Color]:
    """A hair colour name and value; deeper skin tones get mostly black or brown hair."""
    deep = tone in ("tone4", "tone5", "tone6")
    p = (0.6, 0.26, 0.02, 0.02, 0.06, 0.04) if deep else (0.25, 0.3, 0.17, 0.1, 0.1, 0.08)
    name = _choice(rng, list(_HAIR_COLORS), p)
    options = _HAIR_COLORS[name]
    base = options[int(rng.integers(len(options)))]
    return name, _jitter(rng, base, 8.0)


def _sample_person(rng: np.random.Generator, difficulty: float, main: bool = True) -> _PersonSpec:
    """Samples every random choice about one person.

    Args:
        rng: Random generator.
        difficulty: Scales how often hard elements (flyaways, raised hands) appear.
        main: The foreground person (placement, hands, accessories) or a background extra.
    """
    tone, skin = _sample_skin(rng)
    aspect = rng.uniform(0.72, 0.84)
    hair = _sample_hair(rng, tone, aspect, difficulty if main else 0.3 * difficulty)
    shoulder_w = rng.uniform(1.85, 2.6)
    scale_name = _choice(rng, list(_SCALES), (0.35, 0.4, 0.25))
    size_range, y_range = _SCALES[scale_name]
    size = rng.uniform(*size_range)
    y = rng.uniform(*y_range)
    x = float(np.clip(0.5 + rng.normal(0.0, 0.14), 0.06, 0.94))
    hands: list[_HandSpec] = []
    if main:
        u = rng.random()
        n_hands = 2 if u < 0.08 * difficulty else (1 if u < 0.38 * difficulty else 0)
        sides = [-1, 1] if n_hands == 2 else [int(rng.choice([-1, 1]))] * n_hands
        hands = [_sample_hand(rng, s, shoulder_w, may_hold=rng.random() < 0.6) for s in sides]
    shirt = _random_cloth_color(rng)
    glasses = (
        _hsv(rng.random(), rng.uniform(0, 0.6), rng.uniform(0.05, 0.6))
        if main and rng.random() < 0.25
        else None
    )
    headphones = (
        _hsv(rng.random(), rng.uniform(0, 0.5), rng.uniform(0.08, 0.9))
        if main and rng.random() < 0.16
        else None
    )
    return _PersonSpec(
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
        shirt2=_random_cloth_color(rng),
        pattern=_choice(rng, _PATTERNS, _PATTERN_P),
        collar=_choice(rng, ("round", "v", "shirt", "none"), (0.4, 0.2, 0.2, 0.2)),
        long_sleeves=bool(rng.random() < 0.5),
        pattern_scale=rng.uniform(0.12, 0.35),
        eye=_jitter(rng, (55.0, 38.0, 28.0) if rng.random() < 0.75 else (70.0, 100.0, 120.0), 10),
        lips=_mix(skin, (150.0, 60.0, 60.0), rng.uniform(0.25, 0.5)),
        brow=rng.uniform(0.035, 0.07),
        beard=_mix(skin, hair.color, rng.uniform(0.35, 0.9)) if rng.random() < 0.12 else None,
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


# --------------------------------------------------------------------------------------------
# Drawing the person
# --------------------------------------------------------------------------------------------


def _fixed_curves(curves: np.ndarray) -> list[np.ndarray]:
    """Converts ``K x N x 2`` float curves to a list of cv2 fixed-point contours."""
    return list(np.round(curves * _ONE).astype(np.int32).reshape(len(curves), -1, 1, 2))


def _hair_texture(
    hair: _HairSpec, head: _Frame, px: float
) -> Callable[[int, int, int, int], np.ndarray]:
    """Hair texture: strokes fanning out from the crown in darker and lighter shades."""
    curves = head(hair.stroke_curves.reshape(-1, 2)).reshape(hair.stroke_curves.shape)
    shades = (
        _scale_color(hair.color, 0.62),
        _scale_color(hair.color, 0.8),
        _mix(hair.color, (255, 255, 255), 0.14),
    )
    width = max(1, round(0.5 * px))  # thick cv2 lines are slow; 1 px at supersample 2
    line = _detail_line(px)

    def texture(h: int, w: int, x0: int, y0: int) -> np.ndarray:
        patch = _solid(h, w, hair.color)
        local = curves - np.array([x0, y0])
        for group, color in enumerate(shades):
            sel = local[hair.stroke_shade == group]
            cv2.polylines(patch, _fixed_curves(sel), False, color, width, line, _SHIFT)
        return patch

    return texture


def _cloth_texture(
    spec: _PersonSpec, body: _Frame, px: float
) -> Callable[[int, int, int, int], np.ndarray]:
    """Clothing texture in the torso's box: base colour, pattern, folds."""
    line = _detail_line(px)

    def texture(h: int, w: int, x0: int, y0: int) -> np.ndarray:
        patch = _solid(h, w, spec.shirt)
        off = np.array([x0, y0], dtype=np.float64)
        period = spec.pattern_scale
        y_top, y_end = spec.neck_base - 0.5, spec.neck_base + 14.0
        if spec.pattern in ("stripes", "checks"):
            box = body.to_local(np.array([[x0, y0], [x0 + w, y0], [x0, y0 + h], [x0 + w, y0 + h]]))
            lo, hi = box.min(axis=0) - period, box.max(axis=0) + period
            step = period * (1.0 if spec.pattern == "stripes" else 1.6)
            rows = _bands(np.arange(max(lo[1], y_top), hi[1], step), 0.175 * period, lo[0], hi[0])
            bands = [rows]
            if spec.pattern == "checks":
                cols = _bands(np.arange(lo[0], hi[0], step), 0.175 * period, lo[1], hi[1])
                bands.append(cols[..., ::-1])
            for band in bands:
                px_band = body(band.reshape(-1, 2)).reshape(band.shape) - off
                cv2.fillPoly(patch, _fixed_curves(px_band), spec.shirt2, line, _SHIFT)
        if spec.pattern == "logo":
            cy = spec.neck_base + 1.3
            shape = _ellipse_pts(0.35, cy, 0.4, 0.4, 5 if period < 0.2 else 24)
            cv2.fillPoly(patch, [_fixed(body(shape) - off)], spec.shirt2, line, _SHIFT)
        if spec.pattern == "jacket":
            for s in (-1.0, 1.0):
                panel = np.array(
                    [
                        [0.15, spec.neck_base + 0.1],
                        [1.0, spec.neck_base - 0.2],
                        [4.0, spec.neck_base],
                        [4.0, y_end],
                        [0.35, y_end],
                    ]
                )
                pts = body(panel * np.array([s, 1.0])) - off
                cv2.fillPoly(patch, [_fixed(pts)], spec.shirt2, line, _SHIFT)
                lapel = np.array(
                    [
                        [0.2, spec.neck_base + 0.1],
                        [0.75, spec.neck_base + 0.9],
                        [0.5, spec.neck_base + 2.2],
                    ]
                ) * np.array([s, 1.0])
                edge = _scale_color(spec.shirt2, 0.6)
                cv2.polylines(
                    patch, [_fixed(body(lapel) - off)], False, edge, max(1, round(px)), line, _SHIFT
                )
        if spec.pattern == "hoodie":
            for s in (-0.25, 0.25):
                cord = np.array([[s, spec.neck_base + 0.2], [s * 1.1, spec.neck_base + 1.6]])
                cv2.polylines(
                    patch,
                    [_fixed(body(cord) - off)],
                    False,
                    (235, 235, 235),
                    max(1, round(0.8 * px)),
                    line,
                    _SHIFT,
                )
        fold = _scale_color(spec.shirt, 0.88)
        for s in (-1.0, 1.0):
            crease = _bezier(
                (s * 0.9, spec.neck_base + 1.2),
                (s * 1.4, spec.neck_base + 2.2),
                (s * 1.1, spec.neck_base + 3.4),
                8,
            )
            cv2.polylines(
                patch, [_fixed(body(crease) - off)], False, fold, max(1, round(px)), line, _SHIFT
            )
        return patch

    return texture


def _bands(centers: np.ndarray, half: float, start: float, stop: float) -> np.ndarray:
    """Horizontal bands ``[start, stop] x [c - half, c + half]`` as ``K x 4 x 2`` quads."""
    c = centers[:, None]
    xs = np.array([start, stop, stop, start])[None, :].repeat(len(centers), axis=0)
    ys = np.concatenate([c - half, c - half, c + half, c + half], axis=1)
    return np.stack([xs, ys], axis=2)


def _torso_polygon(spec: _PersonSpec, bottom: float) -> np.ndarray:
    """Torso with curved shoulders, body-local units, extending below the frame."""
    nb, sw, drop, nw = spec.neck_base, spec.shoulder_w, spec.shoulder_drop, spec.neck_w
    shoulder = _bezier(
        (nw * 1.05, nb - 0.15), (sw * 0.72, nb + drop * 0.1), (sw, nb + drop + 0.4), 12
    )
    side = _bezier((sw, nb + drop + 0.4), (sw * 1.04, nb + drop + 1.4), (sw * 0.93, bottom), 6)
    right = np.concatenate([shoulder, side[1:]])
    return np.concatenate([_mirror(right), right])


def _draw_arm(p: _Painter, pts: np.ndarray, color: Color, width: float) -> None:
    """A limb segment: a round-capped polyline ``width`` canvas pixels thick, in the mask."""
    p.stroke(pts, color, max(1, round(width)))


def _draw_hand(
    p: _Painter,
    frame: _Frame,
    center: np.ndarray,
    angle: float,
    hand: _HandSpec,
    skin: Color,
    grip: bool,
) -> None:
    """Palm, four fingers and a thumb; ``grip`` curls the fingers around an object."""
    size = hand.size
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]])

    def to_body(local: np.ndarray) -> np.ndarray:
        return local @ rot.T * size + center

    palm = _ellipse_pts(0.0, 0.0, 0.27, 0.3, 20)
    p.fill(frame(to_body(palm)), skin)
    curl = 0.65 if grip else hand.curl
    lengths = np.array([0.4, 0.47, 0.44, 0.34]) * (1.0 - curl * 0.6)
    finger_w = max(1, round(0.115 * size * frame.unit))
    crease = _scale_color(skin, 0.8)
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
    p: _Painter, frame: _Frame, center: np.ndarray, hand: _HandSpec, blobs: list[Blob] | None
) -> None:
    """A mug (with a handle ring whose hole shows what is behind) or a phone."""
    col = hand.object_color
    if hand.held == "mug":
        body = np.array([[-0.3, -0.38], [0.3, -0.38], [0.27, 0.38], [-0.27, 0.38]]) + center
        handle = _ellipse_pts(center[0] + hand.side * 0.36, center[1], 0.17, 0.2, 20)
        p.stroke(frame(handle), col, max(1, round(0.08 * frame.unit)), closed=True)
        p.fill(frame(body), col)
        rim = _ellipse_pts(center[0], center[1] - 0.38, 0.3, 0.07, 20)
        p.fill(frame(rim), _scale_color(col, 0.6), to_mask=False)
        shine = np.array([[-0.18, -0.25], [-0.16, 0.28]]) + center
        p.stroke(
            frame(shine),
            _mix(col, (255, 255, 255), 0.4),
            max(1, round(0.04 * frame.unit)),
            to_mask=False,
        )
    else:
        a = hand.angle * 0.5
        c, s = math.cos(a), math.sin(a)
        rect = np.array([[-0.25, -0.5], [0.25, -0.5], [0.25, 0.5], [-0.25, 0.5]])
        rot = np.array([[c, -s], [s, c]])
        p.fill(frame(rect @ rot.T + center), _scale_color(col, 0.35))
        screen = rect * np.array([0.82, 0.9]) @ rot.T + center
        p.fill(frame(screen), _mix((40, 60, 90), col, 0.3), to_mask=False)
    if blobs is not None:
        blobs.append(frame.blob(center[0] + 0.2, center[1] + 0.5, 0.5, 0.4, -0.18))


def _draw_raised_arm(
    p: _Painter,
    spec: _PersonSpec,
    body: _Frame,
    hand: _HandSpec,
    t: float,
    blobs: list[Blob] | None,
) -> None:
    """Upper arm, forearm and hand (plus held object) of one raised arm."""
    wave = hand.wave_amp * math.sin(2 * math.pi * hand.wave_freq * t + hand.wave_phase)
    pos = np.asarray(hand.pos) + np.array([0.25 * wave, 0.1 * abs(wave)])
    shoulder = np.array(
        [hand.side * (spec.shoulder_w - 0.35), spec.neck_base + spec.shoulder_drop + 0.45]
    )
    elbow = np.asarray(hand.elbow)
    sleeve = _scale_color(spec.shirt2 if spec.pattern == "jacket" else spec.shirt, 0.92)
    _draw_arm(p, body(np.stack([shoulder, elbow])), sleeve, 0.78 * body.unit)
    direction = pos - elbow
    direction /= max(1e-6, float(np.linalg.norm(direction)))
    wrist = pos - direction * 0.42 * hand.size
    forearm_color = sleeve if spec.long_sleeves else spec.skin
    _draw_arm(p, body(np.stack([elbow, wrist])), forearm_color, 0.46 * body.unit)
    if spec.long_sleeves:
        _draw_arm(
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
        _draw_arm(p, body(thumb), spec.skin, 0.13 * body.unit)
    else:
        _draw_held_object(p, body, obj_center, hand, blobs)
        _draw_hand(p, body, pos, angle, hand, spec.skin, grip=True)


def _draw_face_features(p: _Painter, spec: _PersonSpec, head: _Frame, pose: _Pose) -> None:
    """Eyes, eyebrows, nose shadow, mouth and optional beard (colour only)."""
    a = spec.aspect
    fx = (spec.yaw + pose.yaw) * a * 0.4
    u = head.unit
    dark = _scale_color(spec.skin, 0.72)
    line = max(1, round(0.035 * u))
    for s in (-1.0, 1.0):
        ex = s * a * 0.42 + fx
        if pose.blink:
            p.stroke(
                head(np.array([[ex - 0.12, -0.04], [ex + 0.12, -0.04]])), dark, line, to_mask=False
            )
        else:
            p.fill(head(_ellipse_pts(ex, -0.05, 0.13, 0.065, 16)), (236, 232, 225), to_mask=False)
            p.fill(
                head(_ellipse_pts(ex + fx * 0.15, -0.05, 0.06, 0.06, 12)), spec.eye, to_mask=False
            )
            lid = _ellipse_pts(ex, -0.05, 0.14, 0.075, 10, math.pi * 1.05, math.pi * 1.95)
            p.stroke(head(lid), _scale_color(spec.hair.color, 0.6), line, to_mask=False)
        brow = _bezier((ex - s * 0.17, -0.2), (ex, -0.3), (ex + s * 0.17, -0.22), 6)
        p.stroke(
            head(brow),
            _scale_color(spec.hair.color, 0.85),
            max(1, round(spec.brow * u)),
            to_mask=False,
        )
    if spec.beard is not None:
        jaw = spec.head_pts[spec.head_pts[:, 1] > 0.3]
        jaw = jaw[np.argsort(np.arctan2(jaw[:, 1], jaw[:, 0]))]  # right cheek -> chin -> left cheek
        inner = _bezier((-a * 0.8, 0.3), (fx, 0.25), (a * 0.8, 0.3), 8)
        p.fill(head(np.concatenate([jaw, inner])), spec.beard, to_mask=False)
    nose = _bezier((fx * 1.3, -0.02), (fx * 1.6 + 0.06, 0.18), (fx * 1.5 - 0.02, 0.3), 6)
    p.stroke(head(nose), _scale_color(spec.skin, 0.82), max(1, round(0.03 * u)), to_mask=False)
    mouth_y = 0.55
    if pose.mouth_open > 0.3:
        mouth = _ellipse_pts(fx * 1.2, mouth_y, 0.17, 0.08 * pose.mouth_open, 16)
        p.fill(head(mouth), (70, 30, 32), to_mask=False)
    else:
        smile = _bezier(
            (fx * 1.2 - 0.17, mouth_y - 0.02),
            (fx * 1.2, mouth_y + 0.06),
            (fx * 1.2 + 0.17, mouth_y - 0.02),
            7,
        )
        p.stroke(head(smile), spec.lips, max(1, round(0.05 * u)), to_mask=False)


def _draw_strands(p: _Painter, spec: _PersonSpec, head: _Frame, px: float) -> None:
    """Flyaways: thin curves leaving the hair outline, drawn into the mask."""
    hair = spec.hair
    if len(hair.strand_curves) == 0:
        return
    curves = head(hair.strand_curves.reshape(-1, 2)).reshape(hair.strand_curves.shape)
    widths = np.maximum(1, np.round(hair.strand_width * px)).astype(int)
    color = _mix(hair.color, (255, 255, 255), 0.15)  # thin strands catch the light
    for width in np.unique(widths):
        p.strokes(curves[widths == width], color, int(width))


def _draw_headphones(p: _Painter, spec: _PersonSpec, head: _Frame) -> None:
    """A band resting on (slightly sunk into) the top of the hair, and two ear cups."""
    color = spec.headphones
    assert color is not None
    a = spec.aspect
    band_w = 0.12
    rise = spec.hair.top + 0.08 - 0.5 * band_w  # band centre line, from the cup centres
    band = _ellipse_pts(0.0, 0.08, a + 0.06, rise, 24, math.pi, 2 * math.pi)
    p.stroke(head(band), color, max(1, round(band_w * head.unit)))
    for s in (-1.0, 1.0):
        cup = _ellipse_pts(s * (a + 0.06), 0.08, 0.17, 0.3, 20)
        p.fill(head(cup), _scale_color(color, 0.75))
        pad = _ellipse_pts(s * (a + 0.1), 0.08, 0.09, 0.2, 14)
        p.fill(head(pad), _scale_color(color, 0.5), to_mask=False)


def _draw_glasses(p: _Painter, spec: _PersonSpec, head: _Frame, pose: _Pose) -> None:
    """Round or rectangular rims, bridge and temples (in the mask), plus a glint."""
    color = spec.glasses
    assert color is not None
    a = spec.aspect
    fx = (spec.yaw + pose.yaw) * a * 0.4
    thick = max(1, round(0.035 * head.unit))
    for s in (-1.0, 1.0):
        ex = s * a * 0.42 + fx
        if spec.glasses_round:
            lens = _ellipse_pts(ex, -0.04, 0.2, 0.17, 20)
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


def _draw_person(
    p: _Painter,
    spec: _PersonSpec,
    pose: _Pose,
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
    body = _Frame(unit, spec.lean + pose.lean, (0.0, 6.0), (hx, hy + 6.0 * unit))
    head = _Frame(
        unit, spec.lean + pose.lean + spec.tilt + pose.tilt, (0.0, 0.9), body.point(0.0, 0.9)
    )
    bottom = (canvas_h - hy) / unit + 3.0
    skin_dark = _scale_color(spec.skin, 0.88)
    raised = {h.side for h in spec.hands}

    for poly in spec.hair.back:
        p.fill_textured(head(poly), _hair_texture(spec.hair, head, px))
    sleeve = _scale_color(spec.shirt2 if spec.pattern == "jacket" else spec.shirt, 0.9)
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
        _draw_arm(p, body(arm), sleeve, 0.72 * unit)
    if spec.pattern == "hoodie":
        hood = _ellipse_pts(0.0, nb - 0.05, spec.neck_w + 0.7, 0.45, 24)
        p.fill(body(hood), _scale_color(spec.shirt, 0.8))
    p.fill_textured(body(_torso_polygon(spec, bottom)), _cloth_texture(spec, body, px))
    _draw_collar(p, spec, body)

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
        ear = _ellipse_pts(s * (a * 0.97) - fx * 0.3, 0.08, 0.13, spec.ear * 0.5 + 0.03, 16)
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
        p.fill_textured(head(poly), _hair_texture(spec.hair, head, px))
    _draw_strands(p, spec, head, px)
    if spec.glasses is not None:
        _draw_glasses(p, spec, head, pose)
    if spec.headphones is not None:
        _draw_headphones(p, spec, head)
    for hand in spec.hands:
        _draw_raised_arm(p, spec, body, hand, pose.hand_t, blobs)


def _draw_collar(p: _Painter, spec: _PersonSpec, body: _Frame) -> None:
    """V-neck skin, round neckline or shirt collar tabs (colour only, inside the torso)."""
    nb, nw = spec.neck_base, spec.neck_w
    if spec.collar == "v":
        v = np.array([[-nw * 1.15, nb - 0.1], [nw * 1.15, nb - 0.1], [0.0, nb + 0.75]])
        p.fill(body(v), _scale_color(spec.skin, 0.85), to_mask=False)
    elif spec.collar == "round":
        arc = _ellipse_pts(0.0, nb - 0.1, nw * 1.2, 0.25, 14, 0.0, math.pi)
        p.stroke(
            body(arc), _scale_color(spec.shirt, 0.7), max(1, round(0.08 * body.unit)), to_mask=False
        )
    elif spec.collar == "shirt":
        white = _mix(spec.shirt2, (240, 240, 240), 0.6)
        for s in (-1.0, 1.0):
            tab = np.array(
                [[0.0, nb + 0.35], [nw * 1.2, nb - 0.2], [nw * 1.5, nb + 0.2]]
            ) * np.array([s, 1.0])
            p.fill(body(tab), white, to_mask=False)


# --------------------------------------------------------------------------------------------
# Backgrounds (rendered directly at output resolution, mask 0)
# --------------------------------------------------------------------------------------------


def _linear_ramp(h: int, w: int, angle: float) -> np.ndarray:
    """A ``h x w`` float32 ramp in ``[0, 1]`` along ``angle``."""
    ys = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    xs = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]
    ramp = xs * math.cos(angle) * (w / max(h, w)) + ys * math.sin(angle) * (h / max(h, w))
    ramp -= ramp.min()
    return ramp / max(float(ramp.max()), 1e-6)


def _blend(a: Color, b: Color, t: np.ndarray) -> np.ndarray:
    """Per-pixel mix of two colours by a ``h x w`` weight map in ``[0, 1]``; returns uint8 RGB."""
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


def _texture_gradient(rng: np.random.Generator, h: int, w: int, base: Color) -> np.ndarray:
    """A plain wall: a linear gradient with a little low-frequency unevenness."""
    other = _jitter(rng, _scale_color(base, rng.uniform(0.5, 1.3)), 30)
    t = _linear_ramp(h, w, rng.uniform(0, 2 * math.pi))
    t = np.clip(t * 0.85 + 0.15 * _smooth_noise(rng, h, w, 4), 0, 1)
    return _blend(base, other, t)


def _texture_noise(rng: np.random.Generator, h: int, w: int, base: Color) -> np.ndarray:
    """Blotchy two-octave value noise between two colours."""
    other = _jitter(rng, _scale_color(base, rng.uniform(0.4, 1.5)), 40)
    t = 0.6 * _smooth_noise(rng, h, w, int(rng.integers(3, 8)))
    t += 0.4 * _smooth_noise(rng, h, w, int(rng.integers(12, 40)))
    return _blend(base, other, t)


def _texture_stripes(rng: np.random.Generator, h: int, w: int, base: Color) -> np.ndarray:
    """Hard or soft stripes, horizontal, vertical or slanted."""
    other = _hsv(rng.random(), rng.uniform(0.1, 0.7), rng.uniform(0.3, 0.95))
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
    return _blend(base, other, t)


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
        jitter: Per-cell colour jitter (see :func:`_jitter`).
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
    mortar = _jitter(rng, (200, 195, 185) if rng.random() < 0.7 else (90, 90, 90), 15)
    bh = max(3, round(rng.uniform(0.04, 0.1) * h))
    bw = round(bh * rng.uniform(2.0, 3.2))
    gap = max(1, round(bh * 0.15))
    return _cell_wall(rng, (h, w), (bh, bw), True, (base, mortar, base), gap, 18)


def _texture_tiles(rng: np.random.Generator, h: int, w: int, base: Color) -> np.ndarray:
    """Square tiles, sometimes in a checker pattern."""
    grout = _jitter(rng, _scale_color(base, rng.uniform(0.5, 0.8)), 10)
    size = max(4, round(rng.uniform(0.06, 0.16) * h))
    checker = _jitter(rng, base, 35) if rng.random() < 0.4 else base
    return _cell_wall(
        rng, (h, w), (size, size), False, (base, grout, checker), max(1, size // 12), 6
    )


def _texture_wood(rng: np.random.Generator, h: int, w: int, base: Color) -> np.ndarray:
    """Wood planks with wavy grain and seams, vertical or horizontal."""
    wood = _hsv(rng.uniform(0.05, 0.1), rng.uniform(0.35, 0.7), rng.uniform(0.35, 0.8))
    base = _mix(base, wood, 0.8)
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
    return _blend(base, _scale_color(base, 0.55), np.clip(t, 0, 1))


_TEXTURES: dict[str, Callable[[np.random.Generator, int, int, Color], np.ndarray]] = {
    "gradient": _texture_gradient,
    "noise": _texture_noise,
    "stripes": _texture_stripes,
    "bricks": _texture_bricks,
    "tiles": _texture_tiles,
    "wood": _texture_wood,
}


def _draw_window(
    img: np.ndarray, rng: np.random.Generator, box: tuple[int, int, int, int], bright: bool
) -> None:
    """A window: sky (overexposed when ``bright``), maybe trees, frame bars, maybe curtains."""
    x0, y0, x1, y1 = box
    h, w = img.shape[:2]
    frame_col = _jitter(rng, (235, 235, 230) if rng.random() < 0.6 else (120, 85, 55), 10)
    bx0, by0, bx1, by1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if bx1 <= bx0 or by1 <= by0:
        return
    sky_top = (
        (250, 252, 255)
        if bright
        else _hsv(rng.uniform(0.55, 0.62), rng.uniform(0.2, 0.5), rng.uniform(0.75, 1.0))
    )
    sky_bottom = (255, 255, 250) if bright else _jitter(rng, (200, 215, 225), 20)
    t = np.linspace(0, 1, by1 - by0, dtype=np.float32)[:, None].repeat(bx1 - bx0, axis=1)
    img[by0:by1, bx0:bx1] = _blend(sky_top, sky_bottom, t)
    if not bright and rng.random() < 0.6:
        for _ in range(int(rng.integers(2, 6))):
            cx = int(rng.uniform(x0, x1))
            cy = int(rng.uniform((y0 + y1) / 2, y1))
            r = max(2, int(rng.uniform(0.1, 0.3) * (x1 - x0)))
            green = _hsv(rng.uniform(0.22, 0.35), rng.uniform(0.3, 0.7), rng.uniform(0.25, 0.6))
            cv2.circle(img, (cx, cy), r, green, -1, cv2.LINE_AA)
        img[by0:by1, bx0:bx1] = cv2.GaussianBlur(img[by0:by1, bx0:bx1], (0, 0), 1.5)
    bar = max(1, round(0.012 * h))
    cv2.rectangle(img, (x0, y0), (x1, y1), frame_col, 2 * bar)
    if rng.random() < 0.7:
        cv2.line(img, ((x0 + x1) // 2, y0), ((x0 + x1) // 2, y1), frame_col, bar)
    if rng.random() < 0.5:
        cv2.line(img, (x0, (y0 + y1) // 2), (x1, (y0 + y1) // 2), frame_col, bar)
    if rng.random() < 0.4:
        curtain = _random_cloth_color(rng)
        cw = int((x1 - x0) * rng.uniform(0.12, 0.25))
        cv2.rectangle(img, (x0 - cw // 2, y0 - bar), (x0 + cw, y1 + 3 * bar), curtain, -1)
        cv2.rectangle(img, (x1 - cw, y0 - bar), (x1 + cw // 2, y1 + 3 * bar), curtain, -1)


def _draw_door(
    img: np.ndarray, rng: np.random.Generator, x: int, y: int, s: float, col: Color
) -> None:
    h = img.shape[0]
    dw = int(s * 0.9)
    inset = max(1, dw // 25)
    top = int(h * rng.uniform(0.0, 0.1))
    cv2.rectangle(img, (x, top), (x + dw, h + 5), _scale_color(col, 0.7), -1)
    cv2.rectangle(img, (x + inset, top + inset), (x + dw - inset, h + 5), col, -1)
    for py in (0.15, 0.55):
        cv2.rectangle(
            img,
            (x + dw // 6, int(h * py)),
            (x + dw * 5 // 6, int(h * (py + 0.3))),
            _scale_color(col, 0.85),
            max(1, h // 100),
        )
    knob = (x + dw * 5 // 6, int(h * 0.62))
    cv2.circle(img, knob, max(1, h // 60), (200, 190, 150), -1, cv2.LINE_AA)


def _draw_shelf(
    img: np.ndarray, rng: np.random.Generator, x: int, y: int, s: float, col: Color
) -> None:
    """One to three boards of books in random colours, widths and heights."""
    board = _jitter(rng, (150, 110, 75) if rng.random() < 0.6 else (230, 230, 225), 15)
    sw = int(s * rng.uniform(1.0, 2.0))
    for k in range(int(rng.integers(1, 4))):
        by = y + int(k * s * 0.45)
        n = int(sw / max(1.0, s * 0.03)) + 1
        widths = np.maximum(1, (s * rng.uniform(0.03, 0.08, n)).astype(int))
        heights = (s * rng.uniform(0.2, 0.38, n)).astype(int)
        gaps = np.where(rng.random(n) < 0.1, int(s * 0.2), 0)
        hsv = np.stack(
            [rng.uniform(0, 360, n), rng.uniform(0.2, 0.8, n), rng.uniform(0.2, 0.9, n)], 1
        )
        books = cv2.cvtColor(hsv.astype(np.float32)[None], cv2.COLOR_HSV2RGB)[0] * 255.0
        starts = x + np.concatenate([[0], np.cumsum(widths + gaps)[:-1]])
        for bx, bw, bh, color in zip(starts, widths, heights, books, strict=True):
            if bx >= x + sw:
                break
            cv2.rectangle(img, (int(bx), by - int(bh)), (int(bx + bw), by), color.tolist(), -1)
        cv2.rectangle(img, (x - 2, by), (x + sw, by + max(2, int(s * 0.05))), board, -1)


def _draw_picture(
    img: np.ndarray, rng: np.random.Generator, x: int, y: int, s: float, col: Color
) -> None:
    """A framed abstract picture."""
    fw, fh = max(4, int(s * rng.uniform(0.5, 1.0))), max(4, int(s * rng.uniform(0.4, 0.8)))
    cv2.rectangle(img, (x, y), (x + fw, y + fh), _jitter(rng, (40, 35, 30), 30), -1)
    m = max(1, min(fw, fh) // 10)
    cv2.rectangle(img, (x + m, y + m), (x + fw - m, y + fh - m), col, -1)
    for _ in range(3):
        center = (int(rng.uniform(x + m, x + fw - m)), int(rng.uniform(y + m, y + fh - m)))
        radius = max(1, int(fw * rng.uniform(0.08, 0.25)))
        cv2.circle(img, center, radius, _random_cloth_color(rng), -1, cv2.LINE_AA)


def _draw_plant(
    img: np.ndarray, rng: np.random.Generator, x: int, y: int, s: float, col: Color
) -> None:
    """A pot with stems and elliptic leaves fanning upwards."""
    pot_w = int(s * 0.35)
    base_y = int(y + s * 1.2)
    top_y = base_y - int(s * 0.3)
    pot = np.array(
        [
            [x - pot_w // 2, top_y],
            [x + pot_w // 2, top_y],
            [x + pot_w // 3, base_y],
            [x - pot_w // 3, base_y],
        ],
        np.int32,
    )
    cv2.fillPoly(img, [pot], _jitter(rng, (170, 90, 60), 30), cv2.LINE_AA)
    for _ in range(int(rng.integers(8, 22))):
        a = rng.uniform(math.pi * 1.05, math.pi * 1.95)
        r = s * rng.uniform(0.2, 0.7)
        tip = (int(x + r * math.cos(a)), int(top_y + r * math.sin(a)))
        leaf = _hsv(rng.uniform(0.22, 0.38), rng.uniform(0.4, 0.8), rng.uniform(0.25, 0.65))
        cv2.line(img, (x, top_y), tip, _scale_color(leaf, 0.7), 1, cv2.LINE_AA)
        axes = (max(1, int(s * 0.12)), max(1, int(s * 0.05)))
        cv2.ellipse(img, tip, axes, math.degrees(a), 0, 360, leaf, -1, cv2.LINE_AA)


def _draw_lamp(
    img: np.ndarray, rng: np.random.Generator, x: int, y: int, s: float, col: Color
) -> None:
    """A floor lamp: a pole down to the floor and a bright shade."""
    h = img.shape[0]
    pole = _jitter(rng, (60, 60, 60), 20)
    cv2.line(img, (x, y), (x, h + 5), pole, max(1, int(s * 0.04)), cv2.LINE_AA)
    a, b, d = int(s * 0.15), int(s * 0.25), int(s * 0.3)
    shade = np.array([[x - a, y], [x + a, y], [x + b, y + d], [x - b, y + d]], np.int32)
    cv2.fillPoly(img, [shade], _jitter(rng, (245, 230, 190), 15), cv2.LINE_AA)


def _draw_monitor(
    img: np.ndarray, rng: np.random.Generator, x: int, y: int, s: float, col: Color
) -> None:
    mw, mh = int(s * 1.1), int(s * 0.65)
    inset = max(1, mh // 25)
    cv2.rectangle(img, (x, y), (x + mw, y + mh), (25, 25, 28), -1)
    screen = _jitter(rng, (60, 80, 110), 40)
    cv2.rectangle(img, (x + inset, y + inset), (x + mw - inset, y + mh - inset), screen, -1)


def _shade_wall_corner(
    img: np.ndarray, rng: np.random.Generator, x: int, y: int, s: float, col: Color
) -> None:
    """A room corner: the wall on one side of a vertical line is darker."""
    x = min(max(x, 1), img.shape[1] - 1)
    region = img[:, x:] if rng.random() < 0.5 else img[:, :x]
    shade = rng.uniform(0.75, 0.92)
    cv2.multiply(region, (shade, shade, shade, 1.0), dst=region)


def _draw_chair_back(
    img: np.ndarray, rng: np.random.Generator, x: int, y: int, s: float, col: Color
) -> None:
    """A rounded chair or sofa back rising from the bottom edge."""
    h = img.shape[0]
    cw = int(s * rng.uniform(1.2, 2.0))
    cy = int(h * rng.uniform(0.35, 0.6))
    cv2.rectangle(img, (x - cw // 2, cy), (x + cw // 2, h + 20), col, -1)
    cv2.ellipse(img, (x, cy), (cw // 2, max(1, int(s * 0.25))), 0, 180, 360, col, -1, cv2.LINE_AA)


_ROOM_ITEMS: dict[
    str, Callable[[np.ndarray, np.random.Generator, int, int, float, Color], None]
] = {
    "door": _draw_door,
    "shelf": _draw_shelf,
    "picture": _draw_picture,
    "plant": _draw_plant,
    "lamp": _draw_lamp,
    "monitor": _draw_monitor,
    "corner": _shade_wall_corner,
    "chair": _draw_chair_back,
}
_ROOM_ITEM_NAMES = (*_ROOM_ITEMS, "window")
_ROOM_ITEM_P = (0.1, 0.16, 0.14, 0.14, 0.08, 0.08, 0.1, 0.1, 0.1)


def _draw_random_window(
    img: np.ndarray, rng: np.random.Generator, bright: bool, around_x: float | None
) -> None:
    """A window of random size, anywhere or horizontally around ``around_x`` (pixels)."""
    h, w = img.shape[:2]
    ww = int(w * rng.uniform(0.25, 0.55))
    wh = int(h * rng.uniform(0.4, 0.9))
    if around_x is None:
        x0 = int(rng.uniform(-0.1, 0.9) * w)
    else:
        x0 = int(around_x - ww * rng.uniform(0.3, 0.7))
    y0 = int(h * rng.uniform(-0.1, 0.25))
    _draw_window(img, rng, (x0, y0, x0 + ww, y0 + wh), bright)


def _draw_room_item(
    img: np.ndarray, rng: np.random.Generator, item: str, color_hint: Color | None
) -> None:
    """Draws one piece of room clutter at a random place (output-pixel coordinates).

    Args:
        img: Background canvas, drawn in place.
        rng: Random generator.
        item: A key of ``_ROOM_ITEMS``.
        color_hint: Main colour (e.g. the person's shirt colour, to make it hard), or ``None``.
    """
    h, w = img.shape[:2]
    x = int(rng.uniform(-0.05, 0.95) * w)
    y = int(rng.uniform(0.0, 0.6) * h)
    size = h * rng.uniform(0.15, 0.45)
    color = color_hint if color_hint is not None else _random_cloth_color(rng)
    _ROOM_ITEMS[item](img, rng, x, y, size, color)


def _per_channel(
    plane: np.ndarray, gains: Sequence[float], out: np.ndarray | None = None
) -> np.ndarray:
    """Stacks ``plane * gain`` for three gains into an ``h x w x 3`` float32 image."""
    return cv2.merge([plane * np.float32(g) for g in gains], dst=out)


def _translate(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Shifts an image by a sub-pixel offset, replicating the border."""
    m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REPLICATE)


def _defocus(img: np.ndarray, sigma: float) -> np.ndarray:
    """Webcam depth of field: a Gaussian blur of the background."""
    return cv2.GaussianBlur(img, (0, 0), sigma) if sigma > 0.3 else img


@dataclass
class _LightSpec:
    """Lighting and camera response of one scene."""

    kind: str
    cast: str
    direction: float
    fg_level: float
    bg_level: float
    cast_gain: tuple[float, float, float]
    contrast: float
    brightness: float
    gamma_lut: np.ndarray
    vignette: float
    noise: float
    shadow: tuple[float, float, float, float] | None  # dx, dy (fractions of width), blur, strength
    relief: float
    rim: float


def _sample_light(rng: np.random.Generator, difficulty: float) -> _LightSpec:
    """Samples the light; low light and backlight become likelier with difficulty (up to 1)."""
    hard = min(1.0, difficulty)
    kind = _choice(rng, _LIGHTINGS, (0.45, 0.3, 0.15 * hard, 0.12 * hard))
    cast = _choice(rng, list(_CASTS), (0.55, 0.2, 0.17, 0.08))
    cast_gain = np.asarray(_CASTS[cast]) * rng.uniform(0.96, 1.04, size=3)
    direction = float(rng.uniform(-1, 1))
    fg = bg = 1.0
    noise = rng.uniform(1.0, 5.0)
    rim = 0.0
    if kind == "side":
        fg = rng.uniform(0.9, 1.1)
        direction = float(np.sign(direction) or 1.0) * rng.uniform(0.6, 1.0)
    elif kind == "low_light":
        level = rng.uniform(0.38, 0.62)
        fg, bg = level, level * rng.uniform(0.7, 1.0)
        cast_gain = cast_gain * np.array([1.08, 1.0, 0.85])
        noise = rng.uniform(6.0, 14.0)
    elif kind == "backlit":
        fg = rng.uniform(0.35, 0.65)
        bg = rng.uniform(1.05, 1.3)
        rim = rng.uniform(0.4, 1.0)
    gamma = rng.uniform(0.8, 1.25)
    lut = (255.0 * (np.arange(256) / 255.0) ** gamma).clip(0, 255).astype(np.uint8)
    shadow = None
    if kind != "backlit" and rng.random() < 0.55:
        shadow = (
            -direction * rng.uniform(0.02, 0.08),
            rng.uniform(-0.01, 0.05),
            rng.uniform(0.01, 0.04),
            rng.uniform(0.15, 0.45),
        )
    return _LightSpec(
        kind=kind,
        cast=cast,
        direction=direction,
        fg_level=float(fg),
        bg_level=float(bg),
        cast_gain=(float(cast_gain[0]), float(cast_gain[1]), float(cast_gain[2])),
        contrast=rng.uniform(0.8, 1.2),
        brightness=rng.uniform(-18, 18),
        gamma_lut=lut,
        vignette=rng.uniform(0.0, 0.5) if rng.random() < 0.6 else 0.0,
        noise=noise,
        shadow=shadow,
        relief=rng.uniform(0.25, 0.5) if kind != "backlit" else 0.15,
        rim=rim,
    )


class _Workspace:
    """Full-size scratch arrays reused across frames.

    Fresh multi-megabyte temporaries cost page faults on every frame (about half the time at
    288x512); reusing them does not. Never returned to callers.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """An uninitialised array, the same one on every call with the same name and shape."""
        array = self._arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = self._arrays[name] = np.empty(shape, dtype)
        return array

    def zeros(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        array = self.get(name, shape, dtype)
        array.fill(0)
        return array


@dataclass
class _Scene:
    """What stays fixed across the frames of a clip."""

    person: _PersonSpec
    light: _LightSpec
    background: np.ndarray  # uint8 background canvas (with a margin for clips)
    attributes: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class SyntheticPortraitGenerator:
    """Procedural webcam portraits with exact soft and hard masks.

    Deterministic from ``(seed, split, index)``; train/val/test (or any split name) use disjoint
    seed streams. See the module docstring for what is drawn and the attribute values. Picklable
    (for DataLoader workers) and safe to share between threads (scratch buffers are per thread).

    Args:
        height: Output height in pixels (>= 32).
        width: Output width in pixels (>= 32); the aspect ratio must be at most 4:1 either way.
        seed: Non-negative data seed.
        supersample: Rendering scale for anti-aliasing (>= 1); the soft alpha takes
            ``supersample**2 + 1`` levels.
        difficulty: Non-negative scale on how often hard elements appear (flyaways, close colours,
            clutter, background people, low light, raised hands); 1.0 is the default, 0 is easy.

    Raises:
        ValueError: If an argument is out of range.
    """

    def __init__(
        self,
        height: int = 144,
        width: int = 256,
        seed: int = 0,
        supersample: int = 2,
        difficulty: float = 1.0,
    ) -> None:
        for name, value in (
            ("height", height),
            ("width", width),
            ("seed", seed),
            ("supersample", supersample),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        if height < 32 or width < 32:
            raise ValueError(f"height and width must be >= 32, got {height}x{width}")
        if max(height, width) > _MAX_ASPECT * min(height, width):
            raise ValueError(
                f"aspect ratio must be at most {_MAX_ASPECT}:1 (a webcam frame), got {height}x{width}"
            )
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        if supersample < 1:
            raise ValueError(f"supersample must be >= 1, got {supersample}")
        if (
            isinstance(difficulty, bool)
            or not isinstance(difficulty, numbers.Real)
            or not math.isfinite(difficulty)
            or difficulty < 0
        ):
            raise ValueError(f"difficulty must be a finite number >= 0, got {difficulty!r}")
        self.height = int(height)
        self.width = int(width)
        self.seed = int(seed)
        self.supersample = int(supersample)
        self.difficulty = float(difficulty)
        noise_rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x5EED]))
        self._noise = noise_rng.standard_normal((self.height + 64, self.width, 3), dtype=np.float32)
        self._local = threading.local()
        ys = np.linspace(-1.0, 1.0, self.height, dtype=np.float32)[:, None]
        xs = np.linspace(-1.0, 1.0, self.width, dtype=np.float32)[None, :]
        self._radius2 = (xs**2 + ys**2) / 2.0

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_local"]  # per-thread scratch buffers are neither picklable nor worth sending
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    # ---------------------------------------------------------------- public API

    def frame(self, split: str, index: int) -> PortraitSample:
        """Renders one frame.

        Args:
            split: Split name ("train", "val", "test" or any other string).
            index: Non-negative sample index within the split.

        Returns:
            The frame with its exact soft and hard masks and categorical attributes.
        """
        rng = self._rng(split, index, _KIND_FRAME)
        for _ in range(_MAX_ATTEMPTS):
            scene = self._sample_scene(rng, margin=0.0)
            pose = _Pose(
                hand_t=float(rng.uniform(0, 10)),
                mouth_open=float(rng.uniform(0, 1)) ** 3,
                blink=bool(rng.random() < 0.05),
            )
            image, alpha = self._render(scene, pose, rng, zoom=1.0, shift=(0.0, 0.0))
            mask = (alpha >= 0.5).astype(np.uint8)
            if _MIN_FG <= float(mask.mean()) <= _MAX_FG:
                return PortraitSample(image, mask, alpha, self._final_attributes(scene, mask))
        raise RuntimeError(f"could not place a person in frame {split}/{index}")

    def clip(self, split: str, index: int, length: int = 8) -> PortraitClip:
        """Renders a short clip of one person and background with smooth motion.

        The person sways, nods, drifts, blinks, talks and moves raised hands; the camera pans,
        zooms and shakes slightly. Everything is a smooth function of time.

        Args:
            split: Split name.
            index: Non-negative clip index within the split.
            length: Number of frames (>= 1).

        Returns:
            The clip with per-frame images, masks and alphas, and the clip's attributes.
        """
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
            raise ValueError(f"length must be an integer >= 1, got {length!r}")
        rng = self._rng(split, index, _KIND_CLIP)
        for _ in range(_MAX_ATTEMPTS):
            scene = self._sample_scene(rng, margin=_CLIP_MARGIN)
            motion = _sample_motion(rng)
            images, alphas = [], []
            for t in range(length):
                pose, zoom, shift = motion(t)
                image, alpha = self._render(scene, pose, rng, zoom=zoom, shift=shift)
                images.append(image)
                alphas.append(alpha)
            alpha_stack = np.stack(alphas)
            masks = (alpha_stack >= 0.5).astype(np.uint8)
            fractions = masks.reshape(length, -1).mean(axis=1)
            if fractions.min() >= _MIN_FG and fractions.max() <= _MAX_FG:
                return PortraitClip(
                    np.stack(images), masks, alpha_stack, self._final_attributes(scene, masks[0])
                )
        raise RuntimeError(f"could not place a person in clip {split}/{index}")

    # ---------------------------------------------------------------- sampling

    def _rng(self, split: str, index: int, kind: int) -> np.random.Generator:
        """The random stream of one sample: ``(seed, crc32(split), index, kind)``."""
        if not isinstance(split, str) or not split:
            raise ValueError(f"split must be a non-empty string, got {split!r}")
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
            raise ValueError(f"index must be an integer >= 0, got {index!r}")
        key = zlib.crc32(split.encode("utf-8"))
        return np.random.default_rng(np.random.SeedSequence([self.seed, key, int(index), kind]))

    def _workspace(self) -> _Workspace:
        """This thread's scratch buffers (the generator can be shared between threads)."""
        ws = getattr(self._local, "workspace", None)
        if ws is None:
            ws = self._local.workspace = _Workspace()
        return ws

    def _p(self, base: float) -> float:
        """Probability of a hard element, scaled by difficulty."""
        return min(1.0, base * self.difficulty)

    def _sample_scene(self, rng: np.random.Generator, margin: float) -> _Scene:
        """Samples person and light and renders the background (with ``margin`` for clips)."""
        person = _sample_person(rng, self.difficulty)
        light = _sample_light(rng, self.difficulty)
        background, attrs = self._render_background(rng, person, light, margin)
        attributes = {
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
            **attrs,
        }
        return _Scene(person=person, light=light, background=background, attributes=attributes)

    def _render_background(
        self, rng: np.random.Generator, person: _PersonSpec, light: _LightSpec, margin: float
    ) -> tuple[np.ndarray, dict[str, str]]:
        """Renders the background canvas (output resolution plus ``margin`` on each side)."""
        h = round(self.height * (1 + 2 * margin))
        w = round(self.width * (1 + 2 * margin))
        kind = _choice(rng, _BACKGROUNDS, _BACKGROUND_P)
        matched = rng.random() < self._p(0.3)
        hint = person.shirt if rng.random() < 0.6 else person.hair.color
        base = _jitter(rng, hint, 10) if matched else _random_wall_color(rng)
        if kind == "room":
            img = _texture_gradient(rng, h, w, base)
            if rng.random() < 0.3:
                img = cv2.addWeighted(img, 0.75, _texture_noise(rng, h, w, base), 0.25, 0.0)
        else:
            img = _TEXTURES[kind](rng, h, w, base)
        clutter_p = 1.0 if kind == "room" else 0.35
        n_items = (
            int(rng.integers(1, 2 + round(5 * self.difficulty))) if rng.random() < clutter_p else 0
        )
        for _ in range(n_items):
            item = _choice(rng, _ROOM_ITEM_NAMES, _ROOM_ITEM_P)
            color = _jitter(rng, hint, 12) if matched and rng.random() < 0.5 else None
            if item == "window":
                _draw_random_window(img, rng, light.kind == "backlit", None)
            else:
                _draw_room_item(img, rng, item, color)
        if light.kind == "backlit":  # a bright window right behind the person
            _draw_random_window(img, rng, True, (w - self.width) / 2 + person.x * self.width)
        n_people = 0
        if rng.random() < self._p(0.25):
            n_people = 1 + int(rng.random() < 0.35)
            for _ in range(n_people):
                self._draw_background_person(img, rng)
        sigma = 0.0
        if n_people or rng.random() < 0.35:
            sigma = rng.uniform(0.6, 2.6) * h / 144
            img = _defocus(img, sigma)
        return img, {
            "background": kind,
            "bg_people": str(n_people),
            "color_match": "yes" if matched else "no",
            "defocus": "yes" if sigma > 0 else "no",
        }

    def _draw_background_person(self, img: np.ndarray, rng: np.random.Generator) -> None:
        """A smaller person behind: same shape prior as the target, but background (mask 0)."""
        h, w = img.shape[:2]
        extra = _sample_person(rng, self.difficulty, main=False)
        ref = min(h, 1.3 * w)
        unit = ref * rng.uniform(0.045, 0.1)
        hx, hy = rng.uniform(0.0, 1.0) * w, rng.uniform(0.15, 0.55) * h
        painter = _Painter(img, None, 1.0)
        _draw_person(painter, extra, _Pose(), hx, hy, unit, 1.0, None)

    # ---------------------------------------------------------------- rendering

    def _render(
        self,
        scene: _Scene,
        pose: _Pose,
        rng: np.random.Generator,
        zoom: float,
        shift: tuple[float, float],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Renders the person over the background and lights the result.

        Returns:
            ``(image uint8 H x W x 3, alpha float32 H x W)``.
        """
        h, w, s = self.height, self.width, self.supersample
        person = scene.person
        ref = min(h, 1.3 * w)
        cx, cy = w / 2, h / 2
        hx = cx + zoom * ((person.x + pose.dx * person.size * ref / w) * w - cx) + shift[0] * w
        hy = cy + zoom * ((person.y + pose.dy * person.size * ref / h) * h - cy) + shift[1] * h
        unit = person.size * ref * zoom

        ws = self._workspace()
        color = ws.zeros("color", (h * s, w * s, 3), np.uint8)
        mask = ws.zeros("mask", (h * s, w * s), np.uint8)
        blobs: list[Blob] = []
        _draw_person(
            _Painter(color, mask, s),
            person,
            pose,
            hx * s,
            hy * s,
            unit * s,
            float(s),
            blobs,
            light_x=scene.light.direction,
        )
        cv2.bitwise_and(color, color, dst=color, mask=mask)
        premult = ws.get("premult", (h, w, 3), np.float32)
        coverage = ws.get("coverage", (h * s, w * s), np.float32)
        np.copyto(coverage, mask)
        if s > 1:
            np.copyto(premult, cv2.resize(color, (w, h), interpolation=cv2.INTER_AREA))
            alpha = cv2.resize(coverage, (w, h), interpolation=cv2.INTER_AREA)
        else:
            np.copyto(premult, color)
            alpha = coverage.copy()
        np.clip(alpha, 0.0, 1.0, out=alpha)

        background = self._camera_view(
            scene.background, zoom, shift, ws.get("background", (h, w, 3), np.float32)
        )
        image = self._light(scene.light, premult, alpha, background, blobs, unit, rng)
        return image, alpha

    def _camera_view(
        self, canvas: np.ndarray, zoom: float, shift: tuple[float, float], out: np.ndarray
    ) -> np.ndarray:
        """Crops/zooms the background canvas to the output frame, into float32 ``out``."""
        h, w = self.height, self.width
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
        view = cv2.warpAffine(
            canvas, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        np.copyto(out, view)
        return out

    def _light(
        self,
        light: _LightSpec,
        premult: np.ndarray,
        alpha: np.ndarray,
        background: np.ndarray,
        blobs: list[Blob],
        unit: float,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Shades the person, casts its shadow, composites and applies camera effects."""
        h, w, s = self.height, self.width, self.supersample
        sh, sw = max(8, h // 4), max(8, w // 4)
        small_alpha = cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA)
        small_unit = unit * sw / w

        # Per-pixel planes: contrast and vignetting scale everything, the offset keeps mid-grey.
        ws = self._workspace()
        vignette = None
        if light.vignette > 0:
            vignette = np.multiply(
                self._radius2, -light.vignette, out=ws.get("vignette", (h, w), np.float32)
            )
            vignette += 1.0
        bg_factor = np.subtract(1.0, alpha, out=ws.get("bg_factor", (h, w), np.float32))
        bg_factor *= light.bg_level * light.contrast
        if light.shadow is not None:
            dx, dy, blur, strength = light.shadow
            m = np.array([[1.05, 0.0, dx * sw - 0.025 * sw], [0.0, 1.05, dy * sh - 0.05 * sh]])
            cast = cv2.warpAffine(small_alpha, m, (sw, sh), borderMode=cv2.BORDER_REPLICATE)
            cast = cv2.GaussianBlur(cast, (0, 0), max(0.5, blur * sw))
            bg_factor *= 1.0 - strength * cv2.resize(cast, (w, h), interpolation=cv2.INTER_LINEAR)

        relief = cv2.GaussianBlur(small_alpha, (0, 0), max(0.6, 0.45 * small_unit))
        d = max(1.0, 0.25 * small_unit)
        ahead = _translate(relief, light.direction * d, -0.3 * d)
        behind = _translate(relief, -light.direction * d, 0.3 * d)
        shade = 1.0 - light.relief * (1.0 - relief) + 0.6 * light.relief * (ahead - behind)
        shade += light.rim * np.clip(1.0 - relief, 0, 1) ** 2 * 2.5
        blob_map = np.zeros((sh, sw), np.float32)
        k = sw / (w * s) * _ONE
        for bx, by, ax, ay, angle, delta in blobs:
            cv2.ellipse(
                blob_map,
                (round(bx * k), round(by * k)),
                (max(1, round(ax * k)), max(1, round(ay * k))),
                angle,
                0,
                360,
                delta,
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
        shade += cv2.GaussianBlur(blob_map, (0, 0), max(0.5, 0.2 * small_unit))
        shade *= light.fg_level * light.contrast
        fg_factor = cv2.resize(
            shade, (w, h), ws.get("fg_factor", (h, w), np.float32), interpolation=cv2.INTER_LINEAR
        )
        offset = 128.0 * (1.0 - light.contrast) + light.brightness
        if vignette is not None:
            fg_factor *= vignette
            bg_factor *= vignette

        # In place, with same-shape 3-channel operands: numpy broadcasting over a trailing axis
        # of 3 and fresh full-size temporaries dominate the cost otherwise.
        planes = _per_channel(fg_factor, light.cast_gain, ws.get("planes", (h, w, 3), np.float32))
        image = cv2.multiply(premult, planes, dst=premult)
        _per_channel(bg_factor, light.cast_gain, out=planes)
        cv2.multiply(background, planes, dst=background)
        cv2.add(image, background, dst=image)
        oy = int(rng.integers(0, self._noise.shape[0] - h + 1))
        sigma = light.noise if rng.random() < 0.5 else -light.noise
        if vignette is not None:
            _per_channel(offset * vignette, (1.0, 1.0, 1.0), out=planes)
            cv2.scaleAdd(self._noise[oy : oy + h], sigma, planes, dst=planes)
            cv2.add(image, planes, dst=image)
        else:
            cv2.scaleAdd(self._noise[oy : oy + h], sigma, image, dst=image)
            image += offset
        np.clip(image, 0, 255, out=image)
        quantized = ws.get("quantized", (h, w, 3), np.uint8)
        np.copyto(quantized, image, casting="unsafe")
        return cv2.LUT(quantized, light.gamma_lut)

    @staticmethod
    def _final_attributes(scene: _Scene, mask: np.ndarray) -> dict[str, str]:
        """The scene attributes plus whether the person touches the top, left or right border."""
        cut = bool(mask[0].any() or mask[:, 0].any() or mask[:, -1].any())
        return {**scene.attributes, "border_cut": "yes" if cut else "no"}


def _accessory_name(person: _PersonSpec) -> str:
    """The ``accessory`` attribute: none, glasses, headphones or glasses+headphones."""
    if person.glasses is not None and person.headphones is not None:
        return "glasses+headphones"
    if person.glasses is not None:
        return "glasses"
    if person.headphones is not None:
        return "headphones"
    return "none"


def _sample_motion(
    rng: np.random.Generator,
) -> Callable[[int], tuple[_Pose, float, tuple[float, float]]]:
    """Samples smooth, bounded person and camera motion; returns ``t -> (pose, zoom, shift)``.

    Every term is a sinusoid of the frame index: fast ones (sway, nod, tilt, talking, shake) and
    slow ones (drift, camera pan and zoom), so clips of any length stay in frame and inside the
    background margin.
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

    def at(t: int) -> tuple[_Pose, float, tuple[float, float]]:
        def wave(i: int) -> float:
            return math.sin(2 * math.pi * fast[i] * t + ph[i])

        def drift_wave(i: int) -> float:
            return math.sin(2 * math.pi * slow[i] * t + ph[6 + i])

        pose = _Pose(
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
