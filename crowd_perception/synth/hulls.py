"""Convex hulls of projected spheres: the one drawing primitive of people, figures and tree crowns.

A sphere projects to an ellipse stretched along the viewing direction (:func:`project_spheres`);
a part (a limb, a torso, a crown) is the convex hull of a few such ellipses, traced by support
points (:func:`hull_polygons`). Coordinates are OpenCV fixed point (:func:`to_fixed`), so every
polygon is drawn with sub-pixel accuracy by ``cv2.fillConvexPoly(..., shift=SHIFT)``.
"""

from __future__ import annotations

import numpy as np

from ..core.camera import PinholeCamera

__all__ = ["CIRCLE_POINTS", "MIN_RADIUS_PX", "SHIFT", "SCALE", "DIRECTIONS", "to_fixed", "from_fixed",
           "project_spheres", "hull_polygons", "padded_index"]

CIRCLE_POINTS = 16
MIN_RADIUS_PX = 0.75
SHIFT = 4
SCALE = float(1 << SHIFT)
_ANGLES = np.linspace(0.0, 2 * np.pi, CIRCLE_POINTS, endpoint=False)
DIRECTIONS = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=-1)
# Radius scale so that the inscribed polygon has the area of the true circle.
_AREA_SCALE = 1.0 / np.sqrt(np.sin(2 * np.pi / CIRCLE_POINTS) * CIRCLE_POINTS / (2 * np.pi))


def to_fixed(pixels: np.ndarray) -> np.ndarray:
    """Image coordinates -> OpenCV fixed-point drawing coordinates (``shift`` = 4).

    Image coordinates follow COCO: pixel ``i`` covers ``[i, i + 1)``, so its centre is ``i + 0.5``;
    OpenCV's drawing puts pixel centres at integers, hence the half-pixel shift.
    """
    return np.round((np.asarray(pixels) - 0.5) * SCALE).astype(np.int32)


def from_fixed(fixed: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_fixed` (image coordinates of fixed-point vertices)."""
    return np.asarray(fixed) / SCALE + 0.5


def padded_index(groups: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """``(P, K)`` sphere indices of each hull, padded to a common width by repeating the last one."""
    width = max(map(len, groups))
    return np.array([list(g) + [g[-1]] * (width - len(g)) for g in groups])


def project_spheres(spheres_cam: np.ndarray, k: PinholeCamera) -> np.ndarray:
    """``(..., 4)`` camera-frame spheres -> ``(..., 6)`` image ellipses ``(u, v, r_t, r_r, e_x, e_y)``.

    A small sphere of radius ``r`` whose centre is seen at angle ``theta`` off the optical axis
    projects to an ellipse centred at the centre's projection, with radius ``f r / z`` across the
    viewing direction and ``f r / (z cos theta)`` along it (the radial direction ``e`` from the
    principal point): wide-angle cameras stretch people near the image border.
    """
    x, y, z, r = np.moveaxis(spheres_cam, -1, 0)
    u, v = k.fx * x / z + k.cx, k.fy * y / z + k.cy
    tangential = k.fx * r / z
    cos_theta = z / np.sqrt(x * x + y * y + z * z)
    du, dv = u - k.cx, v - k.cy
    norm = np.hypot(du, dv)
    on_axis = norm < 1e-9
    ex = np.where(on_axis, 1.0, du / np.where(on_axis, 1.0, norm))
    ey = np.where(on_axis, 0.0, dv / np.where(on_axis, 1.0, norm))
    return np.stack([u, v, tangential, tangential / cos_theta, ex, ey], axis=-1)


def hull_polygons(ellipses: np.ndarray, index: np.ndarray, min_radius: float = MIN_RADIUS_PX) -> np.ndarray:
    """Fixed-point convex polygon of every hull: ``(N, P, CIRCLE_POINTS, 2)`` int32.

    ``ellipses`` (N, S, 6) are :func:`project_spheres` rows, ``index`` (P, K) the spheres of each
    hull (:func:`padded_index`). The convex hull of a union of ellipses is traced by its support
    points: for each of the ``CIRCLE_POINTS`` directions ``d``, the ellipse with the largest support
    value ``c . d + h(d)`` contributes its extreme point in direction ``d``. The vertices come out
    convex and ordered, for all hulls at once, without a hull call.
    """
    # Per sphere: support value and extreme point in every direction ...
    centres = ellipses[..., :2]  # (N, S, 2)
    rt = np.maximum(ellipses[..., 2], min_radius) * _AREA_SCALE
    rr = np.maximum(ellipses[..., 3], min_radius) * _AREA_SCALE
    e = ellipses[..., 4:6]
    e_perp = np.stack([-e[..., 1], e[..., 0]], axis=-1)
    along, across = e @ DIRECTIONS.T, e_perp @ DIRECTIONS.T  # (N, S, D)
    extent = np.maximum(np.sqrt((rr[..., None] * along) ** 2 + (rt[..., None] * across) ** 2), 1e-12)
    support = centres @ DIRECTIONS.T + extent
    points = (centres[:, :, None, :] + ((rr**2)[..., None] * along / extent)[..., None] * e[:, :, None, :]
              + ((rt**2)[..., None] * across / extent)[..., None] * e_perp[:, :, None, :])  # (N, S, D, 2)
    # ... then, per hull and direction, the sphere with the largest support value.
    best = np.argmax(support[:, index], axis=2)  # (N, P, D) index into the hull's spheres
    sphere = index[np.arange(len(index))[:, None], best]  # (N, P, D) sphere index
    n = np.arange(len(ellipses))[:, None, None]
    vertices = points[n, sphere, np.arange(CIRCLE_POINTS)]
    return to_fixed(vertices)
