"""Point geometry: ellipse arcs, quadratic Bezier curves and the part-local coordinate frame.

Parts of a person are described in local units (the head half-height is 1) and mapped to canvas
pixels by a :class:`LocalFrame` (scale, rotation, translation).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

Blob = tuple[float, float, float, float, float, float]  # cx, cy, ax, ay, angle_deg, delta


@functools.lru_cache(maxsize=128)
def unit_arc(n: int, t0: float, t1: float) -> np.ndarray:
    """``n x 2`` points ``(cos t, sin t)`` from ``t0`` to ``t1`` (cached, read-only).

    Args:
        n: Number of points.
        t0: Start angle in radians.
        t1: End angle in radians; a full turn leaves out the repeated end point.

    Returns:
        A read-only ``n x 2`` float64 array.
    """
    t = np.linspace(t0, t1, n, endpoint=(t1 - t0) < 2 * math.pi - 1e-9)
    arc = np.stack([np.cos(t), np.sin(t)], axis=1)
    arc.flags.writeable = False
    return arc


def ellipse_points(
    cx: float,
    cy: float,
    ax: float,
    ay: float,
    n: int = 28,
    t0: float = 0.0,
    t1: float = 2 * math.pi,
) -> np.ndarray:
    """Returns ``n`` points on an axis-aligned ellipse arc from angle ``t0`` to ``t1``.

    Args:
        cx: Centre x.
        cy: Centre y.
        ax: Semi-axis along x.
        ay: Semi-axis along y.
        n: Number of points.
        t0: Start angle in radians.
        t1: End angle in radians.

    Returns:
        An ``n x 2`` float64 array.
    """
    return unit_arc(n, t0, t1) * np.array([ax, ay]) + np.array([cx, cy])


@functools.lru_cache(maxsize=32)
def _bezier_basis(n: int) -> np.ndarray:
    """``n x 3`` Bernstein weights of a quadratic Bezier curve (cached, read-only)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    basis = np.concatenate([(1 - t) ** 2, 2 * (1 - t) * t, t**2], axis=1)
    basis.flags.writeable = False
    return basis


def bezier(p0: Sequence[float], p1: Sequence[float], p2: Sequence[float], n: int = 8) -> np.ndarray:
    """Returns ``n`` points on the quadratic Bezier curve ``p0 -> p2`` with control ``p1``.

    Args:
        p0: Start point ``(x, y)``.
        p1: Control point.
        p2: End point.
        n: Number of points, end points included.

    Returns:
        An ``n x 2`` float64 array.
    """
    return _bezier_basis(n) @ np.array([p0, p1, p2], dtype=np.float64)


def bezier_batch(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, n: int = 8) -> np.ndarray:
    """Quadratic Bezier curves for ``K x 2`` endpoint/control arrays.

    Args:
        p0: ``K x 2`` start points.
        p1: ``K x 2`` control points.
        p2: ``K x 2`` end points.
        n: Points per curve.

    Returns:
        A ``K x n x 2`` float64 array.
    """
    return np.einsum("nk,kmd->mnd", _bezier_basis(n), np.stack([p0, p1, p2]))


def mirror_x(pts: np.ndarray) -> np.ndarray:
    """Mirrors points across the vertical axis ``x = 0`` and reverses their order."""
    return (pts * np.array([-1.0, 1.0]))[::-1]


class LocalFrame:
    """A similarity transform from part-local units to canvas pixels.

    Calling the frame on an ``N x 2`` array of local points returns canvas pixels.

    Args:
        unit: Canvas pixels per local unit.
        angle: Rotation in radians (clockwise on screen) about ``pivot_local``.
        pivot_local: Local point that lands on ``pivot_world``.
        pivot_world: Canvas position of the pivot.
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
        """Maps local points (``N x 2`` or one ``(x, y)``) to canvas pixels."""
        return np.asarray(pts, dtype=np.float64) @ self._m.T + self._t

    def to_local(self, pts: np.ndarray) -> np.ndarray:
        """Inverse of the transform: canvas pixels to local units."""
        return (np.asarray(pts, dtype=np.float64) - self._t) @ np.linalg.inv(self._m).T

    def point(self, x: float, y: float) -> tuple[float, float]:
        """Maps one local point to a canvas pixel position ``(x, y)``."""
        p = self(np.array([x, y]))
        return float(p[0]), float(p[1])

    def blob(self, x: float, y: float, ax: float, ay: float, delta: float) -> Blob:
        """A shading ellipse given in local units, as a canvas-pixel blob.

        Args:
            x: Centre x, local units.
            y: Centre y, local units.
            ax: Semi-axis along the local x axis, local units.
            ay: Semi-axis along the local y axis, local units.
            delta: Brightness change inside the ellipse (negative darkens).

        Returns:
            ``(cx, cy, ax, ay, angle_deg, delta)`` in canvas pixels and degrees.
        """
        cx, cy = self.point(x, y)
        return (cx, cy, ax * self.unit, ay * self.unit, math.degrees(self.angle), delta)
