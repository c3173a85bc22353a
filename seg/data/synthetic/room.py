"""Room clutter drawn on the background: windows, doors, shelves, pictures, plants, lamps.

Also monitors, room corners and chair backs. Everything is drawn at output resolution into the
background canvas (mask 0); a bright window behind the person makes the backlit scenes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from seg.data.synthetic.palette import (
    Color,
    hsv_color,
    jitter_color,
    random_cloth_color,
    scale_color,
)
from seg.data.synthetic.textures import blend_colors


def _draw_window(
    img: np.ndarray, rng: np.random.Generator, box: tuple[int, int, int, int], bright: bool
) -> None:
    """A window: sky (overexposed when ``bright``), maybe trees, frame bars, maybe curtains."""
    x0, y0, x1, y1 = box
    h, w = img.shape[:2]
    frame_col = jitter_color(rng, (235, 235, 230) if rng.random() < 0.6 else (120, 85, 55), 10)
    bx0, by0, bx1, by1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if bx1 <= bx0 or by1 <= by0:
        return
    sky_top = (
        (250, 252, 255)
        if bright
        else hsv_color(rng.uniform(0.55, 0.62), rng.uniform(0.2, 0.5), rng.uniform(0.75, 1.0))
    )
    sky_bottom = (255, 255, 250) if bright else jitter_color(rng, (200, 215, 225), 20)
    t = np.linspace(0, 1, by1 - by0, dtype=np.float32)[:, None].repeat(bx1 - bx0, axis=1)
    img[by0:by1, bx0:bx1] = blend_colors(sky_top, sky_bottom, t)
    if not bright and rng.random() < 0.6:
        for _ in range(int(rng.integers(2, 6))):
            cx = int(rng.uniform(x0, x1))
            cy = int(rng.uniform((y0 + y1) / 2, y1))
            r = max(2, int(rng.uniform(0.1, 0.3) * (x1 - x0)))
            green = hsv_color(
                rng.uniform(0.22, 0.35), rng.uniform(0.3, 0.7), rng.uniform(0.25, 0.6)
            )
            cv2.circle(img, (cx, cy), r, green, -1, cv2.LINE_AA)
        img[by0:by1, bx0:bx1] = cv2.GaussianBlur(img[by0:by1, bx0:bx1], (0, 0), 1.5)
    bar = max(1, round(0.012 * h))
    cv2.rectangle(img, (x0, y0), (x1, y1), frame_col, 2 * bar)
    if rng.random() < 0.7:
        cv2.line(img, ((x0 + x1) // 2, y0), ((x0 + x1) // 2, y1), frame_col, bar)
    if rng.random() < 0.5:
        cv2.line(img, (x0, (y0 + y1) // 2), (x1, (y0 + y1) // 2), frame_col, bar)
    if rng.random() < 0.4:
        curtain = random_cloth_color(rng)
        cw = int((x1 - x0) * rng.uniform(0.12, 0.25))
        cv2.rectangle(img, (x0 - cw // 2, y0 - bar), (x0 + cw, y1 + 3 * bar), curtain, -1)
        cv2.rectangle(img, (x1 - cw, y0 - bar), (x1 + cw // 2, y1 + 3 * bar), curtain, -1)


def _draw_door(
    img: np.ndarray, rng: np.random.Generator, x: int, y: int, s: float, col: Color
) -> None:
    """A door reaching the floor, with a darker frame, two panels and a knob."""
    h = img.shape[0]
    dw = int(s * 0.9)
    inset = max(1, dw // 25)
    top = int(h * rng.uniform(0.0, 0.1))
    cv2.rectangle(img, (x, top), (x + dw, h + 5), scale_color(col, 0.7), -1)
    cv2.rectangle(img, (x + inset, top + inset), (x + dw - inset, h + 5), col, -1)
    for py in (0.15, 0.55):
        cv2.rectangle(
            img,
            (x + dw // 6, int(h * py)),
            (x + dw * 5 // 6, int(h * (py + 0.3))),
            scale_color(col, 0.85),
            max(1, h // 100),
        )
    knob = (x + dw * 5 // 6, int(h * 0.62))
    cv2.circle(img, knob, max(1, h // 60), (200, 190, 150), -1, cv2.LINE_AA)


def _draw_shelf(
    img: np.ndarray, rng: np.random.Generator, x: int, y: int, s: float, col: Color
) -> None:
    """One to three boards of books in random colours, widths and heights."""
    board = jitter_color(rng, (150, 110, 75) if rng.random() < 0.6 else (230, 230, 225), 15)
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
    cv2.rectangle(img, (x, y), (x + fw, y + fh), jitter_color(rng, (40, 35, 30), 30), -1)
    m = max(1, min(fw, fh) // 10)
    cv2.rectangle(img, (x + m, y + m), (x + fw - m, y + fh - m), col, -1)
    for _ in range(3):
        center = (int(rng.uniform(x + m, x + fw - m)), int(rng.uniform(y + m, y + fh - m)))
        radius = max(1, int(fw * rng.uniform(0.08, 0.25)))
        cv2.circle(img, center, radius, random_cloth_color(rng), -1, cv2.LINE_AA)


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
    cv2.fillPoly(img, [pot], jitter_color(rng, (170, 90, 60), 30), cv2.LINE_AA)
    for _ in range(int(rng.integers(8, 22))):
        a = rng.uniform(math.pi * 1.05, math.pi * 1.95)
        r = s * rng.uniform(0.2, 0.7)
        tip = (int(x + r * math.cos(a)), int(top_y + r * math.sin(a)))
        leaf = hsv_color(rng.uniform(0.22, 0.38), rng.uniform(0.4, 0.8), rng.uniform(0.25, 0.65))
        cv2.line(img, (x, top_y), tip, scale_color(leaf, 0.7), 1, cv2.LINE_AA)
        axes = (max(1, int(s * 0.12)), max(1, int(s * 0.05)))
        cv2.ellipse(img, tip, axes, math.degrees(a), 0, 360, leaf, -1, cv2.LINE_AA)


def _draw_lamp(
    img: np.ndarray, rng: np.random.Generator, x: int, y: int, s: float, col: Color
) -> None:
    """A floor lamp: a pole down to the floor and a bright shade."""
    h = img.shape[0]
    pole = jitter_color(rng, (60, 60, 60), 20)
    cv2.line(img, (x, y), (x, h + 5), pole, max(1, int(s * 0.04)), cv2.LINE_AA)
    a, b, d = int(s * 0.15), int(s * 0.25), int(s * 0.3)
    shade = np.array([[x - a, y], [x + a, y], [x + b, y + d], [x - b, y + d]], np.int32)
    cv2.fillPoly(img, [shade], jitter_color(rng, (245, 230, 190), 15), cv2.LINE_AA)


def _draw_monitor(
    img: np.ndarray, rng: np.random.Generator, x: int, y: int, s: float, col: Color
) -> None:
    """A computer monitor: a dark bezel around a bluish screen."""
    mw, mh = int(s * 1.1), int(s * 0.65)
    inset = max(1, mh // 25)
    cv2.rectangle(img, (x, y), (x + mw, y + mh), (25, 25, 28), -1)
    screen = jitter_color(rng, (60, 80, 110), 40)
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


# Room clutter names and their sampling weights (windows are drawn separately).
ROOM_ITEM_NAMES = (*_ROOM_ITEMS, "window")
ROOM_ITEM_P = (0.1, 0.16, 0.14, 0.14, 0.08, 0.08, 0.1, 0.1, 0.1)


def draw_random_window(
    img: np.ndarray, rng: np.random.Generator, bright: bool, around_x: float | None
) -> None:
    """A window of random size, anywhere or horizontally around ``around_x`` (pixels).

    Args:
        img: Background canvas, drawn in place.
        rng: Random generator.
        bright: An overexposed window (backlight).
        around_x: Horizontal position to cover, or ``None`` for anywhere.
    """
    h, w = img.shape[:2]
    ww = int(w * rng.uniform(0.25, 0.55))
    wh = int(h * rng.uniform(0.4, 0.9))
    if around_x is None:
        x0 = int(rng.uniform(-0.1, 0.9) * w)
    else:
        x0 = int(around_x - ww * rng.uniform(0.3, 0.7))
    y0 = int(h * rng.uniform(-0.1, 0.25))
    _draw_window(img, rng, (x0, y0, x0 + ww, y0 + wh), bright)


def draw_room_item(
    img: np.ndarray, rng: np.random.Generator, item: str, color_hint: Color | None
) -> None:
    """Draws one piece of room clutter at a random place (output-pixel coordinates).

    Args:
        img: Background canvas, drawn in place.
        rng: Random generator.
        item: One of :data:`ROOM_ITEM_NAMES` except ``window``.
        color_hint: Main colour (e.g. the person's shirt colour, to make it hard), or ``None``.
    """
    h, w = img.shape[:2]
    x = int(rng.uniform(-0.05, 0.95) * w)
    y = int(rng.uniform(0.0, 0.6) * h)
    size = h * rng.uniform(0.15, 0.45)
    color = color_hint if color_hint is not None else random_cloth_color(rng)
    _ROOM_ITEMS[item](img, rng, x, y, size, color)
