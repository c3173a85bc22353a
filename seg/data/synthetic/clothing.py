"""Clothing: the torso outline and its texture (plain, stripes, checks, logo, jacket, hoodie).

Also the collar (round, V-neck, shirt tabs) and folds; patterns are colour-only details inside
the torso, whose outline alone goes into the mask.
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
    to_fixed_point,
)
from seg.data.synthetic.geometry import LocalFrame, bezier, ellipse_points, mirror_x
from seg.data.synthetic.palette import mix_colors, scale_color
from seg.data.synthetic.specs import PersonSpec

# The ``clothing`` attribute values and their sampling weights.
PATTERNS = ("plain", "stripes", "checks", "logo", "jacket", "hoodie")
PATTERN_P = (0.36, 0.16, 0.1, 0.1, 0.16, 0.12)


def cloth_texture(
    spec: PersonSpec, body: LocalFrame, px: float
) -> Callable[[int, int, int, int], np.ndarray]:
    """Clothing texture in the torso's box: base colour, pattern, folds.

    Args:
        spec: The person (clothing colours, pattern and its scale).
        body: Body-local frame (head units to canvas pixels).
        px: Canvas pixels per output pixel.

    Returns:
        ``texture(h, w, x0, y0)`` for :meth:`Painter.fill_textured`.
    """
    line = detail_line_type(px)

    def texture(h: int, w: int, x0: int, y0: int) -> np.ndarray:
        patch = solid_image(h, w, spec.shirt)
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
                cv2.fillPoly(patch, curves_to_fixed_point(px_band), spec.shirt2, line, SHIFT)
        if spec.pattern == "logo":
            cy = spec.neck_base + 1.3
            shape = ellipse_points(0.35, cy, 0.4, 0.4, 5 if period < 0.2 else 24)
            cv2.fillPoly(patch, [to_fixed_point(body(shape) - off)], spec.shirt2, line, SHIFT)
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
                cv2.fillPoly(patch, [to_fixed_point(pts)], spec.shirt2, line, SHIFT)
                lapel = np.array(
                    [
                        [0.2, spec.neck_base + 0.1],
                        [0.75, spec.neck_base + 0.9],
                        [0.5, spec.neck_base + 2.2],
                    ]
                ) * np.array([s, 1.0])
                edge = scale_color(spec.shirt2, 0.6)
                cv2.polylines(
                    patch,
                    [to_fixed_point(body(lapel) - off)],
                    False,
                    edge,
                    max(1, round(px)),
                    line,
                    SHIFT,
                )
        if spec.pattern == "hoodie":
            for s in (-0.25, 0.25):
                cord = np.array([[s, spec.neck_base + 0.2], [s * 1.1, spec.neck_base + 1.6]])
                cv2.polylines(
                    patch,
                    [to_fixed_point(body(cord) - off)],
                    False,
                    (235, 235, 235),
                    max(1, round(0.8 * px)),
                    line,
                    SHIFT,
                )
        fold = scale_color(spec.shirt, 0.88)
        for s in (-1.0, 1.0):
            crease = bezier(
                (s * 0.9, spec.neck_base + 1.2),
                (s * 1.4, spec.neck_base + 2.2),
                (s * 1.1, spec.neck_base + 3.4),
                8,
            )
            cv2.polylines(
                patch,
                [to_fixed_point(body(crease) - off)],
                False,
                fold,
                max(1, round(px)),
                line,
                SHIFT,
            )
        return patch

    return texture


def _bands(centers: np.ndarray, half: float, start: float, stop: float) -> np.ndarray:
    """Horizontal bands ``[start, stop] x [c - half, c + half]`` as ``K x 4 x 2`` quads."""
    c = centers[:, None]
    xs = np.array([start, stop, stop, start])[None, :].repeat(len(centers), axis=0)
    ys = np.concatenate([c - half, c - half, c + half, c + half], axis=1)
    return np.stack([xs, ys], axis=2)


def torso_polygon(spec: PersonSpec, bottom: float) -> np.ndarray:
    """Torso with curved shoulders, body-local units, extending below the frame.

    Args:
        spec: The person (neck and shoulder shape).
        bottom: Lowest body-local y of the outline.

    Returns:
        The closed outline as an ``N x 2`` array, body-local units.
    """
    nb, sw, drop, nw = spec.neck_base, spec.shoulder_w, spec.shoulder_drop, spec.neck_w
    shoulder = bezier(
        (nw * 1.05, nb - 0.15), (sw * 0.72, nb + drop * 0.1), (sw, nb + drop + 0.4), 12
    )
    side = bezier((sw, nb + drop + 0.4), (sw * 1.04, nb + drop + 1.4), (sw * 0.93, bottom), 6)
    right = np.concatenate([shoulder, side[1:]])
    return np.concatenate([mirror_x(right), right])


def draw_collar(p: Painter, spec: PersonSpec, body: LocalFrame) -> None:
    """V-neck skin, round neckline or shirt collar tabs (colour only, inside the torso).

    Args:
        p: Painter.
        spec: The person.
        body: Body-local frame.
    """
    nb, nw = spec.neck_base, spec.neck_w
    if spec.collar == "v":
        v = np.array([[-nw * 1.15, nb - 0.1], [nw * 1.15, nb - 0.1], [0.0, nb + 0.75]])
        p.fill(body(v), scale_color(spec.skin, 0.85), to_mask=False)
    elif spec.collar == "round":
        arc = ellipse_points(0.0, nb - 0.1, nw * 1.2, 0.25, 14, 0.0, math.pi)
        p.stroke(
            body(arc), scale_color(spec.shirt, 0.7), max(1, round(0.08 * body.unit)), to_mask=False
        )
    elif spec.collar == "shirt":
        white = mix_colors(spec.shirt2, (240, 240, 240), 0.6)
        for s in (-1.0, 1.0):
            tab = np.array(
                [[0.0, nb + 0.35], [nw * 1.2, nb - 0.2], [nw * 1.5, nb + 0.2]]
            ) * np.array([s, 1.0])
            p.fill(body(tab), white, to_mask=False)
