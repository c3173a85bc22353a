"""Low-level drawing: fixed-point coordinates, the two-canvas painter and scratch buffers.

The foreground is drawn on a colour canvas and a binary mask canvas with the same cv2 primitives
and fixed-point sub-pixel coordinates (:class:`Painter`), so the mask is exact. Full-size
temporaries are reused between frames (:class:`Workspace`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from seg.data.synthetic.palette import Color

SHIFT = 4  # fractional bits of cv2 drawing coordinates (1/16 px), for sub-pixel smooth motion
ONE = 1 << SHIFT


def to_fixed_point(pts: np.ndarray) -> np.ndarray:
    """Converts float pixel points to a cv2 fixed-point int32 contour (``SHIFT`` bits).

    Args:
        pts: ``N x 2`` points (or anything reshapeable to it) in pixels.

    Returns:
        An ``N x 1 x 2`` int32 contour.
    """
    return np.round(np.asarray(pts, dtype=np.float64).reshape(-1, 1, 2) * ONE).astype(np.int32)


def curves_to_fixed_point(curves: np.ndarray) -> list[np.ndarray]:
    """Converts ``K x N x 2`` float curves to a list of ``K`` cv2 fixed-point contours."""
    return list(np.round(curves * ONE).astype(np.int32).reshape(len(curves), -1, 1, 2))


def solid_image(h: int, w: int, rgb: Sequence[float]) -> np.ndarray:
    """An ``h x w x 3`` uint8 image of one colour (row copy: ``img[:] = rgb`` is ~50x slower).

    Args:
        h: Height in pixels.
        w: Width in pixels.
        rgb: The colour, rounded to uint8.

    Returns:
        A new contiguous uint8 image.
    """
    row = np.tile(np.round(np.asarray(rgb)).astype(np.uint8), w)
    return np.repeat(row[None], h, axis=0).reshape(h, w, 3)


def detail_line_type(px: float) -> int:
    """Line type for colour-only details: anti-aliased unless the canvas is supersampled.

    Args:
        px: Canvas pixels per output pixel.

    Returns:
        ``cv2.LINE_8`` when ``px >= 2``, else ``cv2.LINE_AA``.
    """
    return cv2.LINE_8 if px >= 2 else cv2.LINE_AA


class Painter:
    """Draws primitives on a colour canvas and, for foreground parts, on a mask canvas.

    Parts drawn with ``to_mask=True`` are rasterised on both canvases with the same fixed-point
    geometry and without anti-aliasing, so every mask pixel receives the part's colour. Interior
    details (facial features, patterns) are colour-only and may use anti-aliasing.

    Args:
        color: ``H x W x 3`` uint8 colour canvas, drawn in place.
        mask: ``H x W`` uint8 mask canvas drawn in place, or ``None`` for background drawing.
        px: Canvas pixels per output pixel (the supersampling factor).
    """

    def __init__(self, color: np.ndarray, mask: np.ndarray | None, px: float) -> None:
        self.color = color
        self.mask = mask
        self.detail_line = detail_line_type(px)

    def fill(self, pts: np.ndarray, rgb: Color, to_mask: bool = True) -> None:
        """Fills a polygon given as an ``N x 2`` array of pixel coordinates.

        Args:
            pts: ``N x 2`` polygon in canvas pixels.
            rgb: Fill colour.
            to_mask: Also fill the mask canvas (a foreground part, not a colour-only detail).
        """
        poly = [to_fixed_point(pts)]
        masked = to_mask and self.mask is not None
        line = cv2.LINE_8 if masked else self.detail_line
        cv2.fillPoly(self.color, poly, rgb, line, SHIFT)
        if masked:
            cv2.fillPoly(self.mask, poly, 1, cv2.LINE_8, SHIFT)

    def stroke(
        self,
        pts: np.ndarray,
        rgb: Color,
        thickness: int,
        to_mask: bool = True,
        closed: bool = False,
    ) -> None:
        """Draws a polyline with round caps and the given integer thickness in canvas pixels.

        Args:
            pts: ``N x 2`` polyline in canvas pixels.
            rgb: Line colour.
            thickness: Line thickness in canvas pixels (at least 1).
            to_mask: Also draw on the mask canvas (a foreground part, not a colour-only detail).
            closed: Join the last point to the first.
        """
        poly = [to_fixed_point(pts)]
        masked = to_mask and self.mask is not None
        line = cv2.LINE_8 if masked else self.detail_line
        cv2.polylines(self.color, poly, closed, rgb, max(1, thickness), line, SHIFT)
        if masked:
            cv2.polylines(self.mask, poly, closed, 1, max(1, thickness), cv2.LINE_8, SHIFT)

    def strokes(self, curves: np.ndarray, rgb: Color, thickness: int) -> None:
        """Draws open polylines of one colour and thickness into both canvases.

        Args:
            curves: ``K x N x 2`` polylines in canvas pixels.
            rgb: Line colour.
            thickness: Line thickness in canvas pixels.
        """
        polys = curves_to_fixed_point(curves)
        cv2.polylines(self.color, polys, False, rgb, thickness, cv2.LINE_8, SHIFT)
        if self.mask is not None:
            cv2.polylines(self.mask, polys, False, 1, thickness, cv2.LINE_8, SHIFT)

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
        poly = to_fixed_point(pts)
        x0 = max(0, int(poly[:, 0, 0].min() >> SHIFT) - 1)
        y0 = max(0, int(poly[:, 0, 1].min() >> SHIFT) - 1)
        x1 = min(canvas_w, int(poly[:, 0, 0].max() >> SHIFT) + 2)
        y1 = min(canvas_h, int(poly[:, 0, 1].max() >> SHIFT) + 2)
        if x1 <= x0 or y1 <= y0:
            return
        local = poly - np.array([x0 * ONE, y0 * ONE], dtype=np.int32)
        region = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(region, [local], 1, cv2.LINE_8, SHIFT)
        patch = texture(y1 - y0, x1 - x0, x0, y0)
        cv2.copyTo(patch, region, self.color[y0:y1, x0:x1])  # writes into the canvas view
        if self.mask is not None:
            cv2.fillPoly(self.mask, [poly], 1, cv2.LINE_8, SHIFT)


class Workspace:
    """Full-size scratch arrays reused across frames.

    Fresh multi-megabyte temporaries cost page faults on every frame (about half the time at
    288x512); reusing them does not. Never returned to callers.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """An uninitialised array, the same one on every call with the same name and shape.

        Args:
            name: Buffer name, unique per use.
            shape: Array shape.
            dtype: Array dtype.

        Returns:
            The buffer (reallocated when the shape or dtype changes).
        """
        array = self._arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = self._arrays[name] = np.empty(shape, dtype)
        return array

    def zeros(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """Like :meth:`get`, filled with zeros."""
        array = self.get(name, shape, dtype)
        array.fill(0)
        return array
