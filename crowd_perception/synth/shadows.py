"""Static cast shadows on the ground: buildings and street objects under the sequence's sun.

The sun is fixed within a sequence and none of these objects move, so their shadows are baked into
the ground texture once (people cast theirs per frame, :func:`~.raster.draw_shadows`). A point at
height ``y`` casts its shadow at ``(x, z) + y * sun`` on the ground, where ``sun`` is the ground
displacement per metre of height (zero for an overcast sky). Where the shadows lie is kept
(:class:`GroundLight`), so people standing in them are drawn in shade too.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .objects import Occluder
from .textures import Block

__all__ = ["bake_shadows", "GroundLight", "SHADOW_STRENGTH"]

SHADOW_STRENGTH = 0.45
"""Fraction of the light a cast shadow takes away (the sky still lights the ground)."""


@dataclass(frozen=True)
class GroundLight:
    """Where the sun reaches the ground: ``mask`` (rows along ``Z``, columns along ``X``) is 1 in a
    cast shadow, texel (0, 0) at world ``origin`` ``(x, z)``, ``res`` texels per metre."""

    mask: np.ndarray
    origin: tuple[float, float]
    res: tuple[float, float]

    def at(self, ground: np.ndarray) -> np.ndarray:
        """``(N,)`` light factor at world ground points ``(N, 2)`` ``(x, z)``: 1 in the sun, less in a shadow."""
        cols = np.clip(((ground[:, 0] - self.origin[0]) * self.res[0]).astype(int), 0, self.mask.shape[1] - 1)
        rows = np.clip(((ground[:, 1] - self.origin[1]) * self.res[1]).astype(int), 0, self.mask.shape[0] - 1)
        return 1.0 - SHADOW_STRENGTH * self.mask[rows, cols]


def bake_shadows(texture: np.ndarray, origin: tuple[float, float], res: tuple[float, float], sun: np.ndarray,
                 facade_x: float, blocks: dict[float, list[Block]], z_start: float, occluders: list[Occluder]
                 ) -> GroundLight | None:
    """Darken the ground ``texture`` (float, rows along ``Z``) in place under every building and object.

    ``origin`` is the world ``(x, z)`` of texel (0, 0), ``res`` texels per metre along ``(X, Z)``;
    ``blocks`` the buildings per side (-1 / +1) with their ``z`` in facade-texture metres from ``z_start``.
    Returns where the shadows are (to light the people standing in them), None under an overcast sky.
    """
    sun = np.asarray(sun, dtype=float)
    if np.hypot(*sun) < 0.05:
        return None
    mask: np.ndarray = np.zeros(texture.shape[:2], np.float32)
    scale, shift = np.array(res), np.array(origin)

    def texels(points: np.ndarray) -> np.ndarray:
        return np.round((points - shift) * scale * 16).astype(np.int32)

    for side, side_blocks in blocks.items():
        if side * sun[0] >= 0:  # the shadows fall behind the buildings, not onto the street
            continue
        for b in side_blocks:
            base = np.array([[side * facade_x, z_start + b.z0], [side * facade_x, z_start + b.z1]])
            quad = np.concatenate([base, base[::-1] + b.height * sun])
            cv2.fillConvexPoly(mask, texels(quad), 1.0, cv2.LINE_8, 4)
    for occluder in occluders:
        for cuboid in occluder.cuboids:
            corners = np.array([[x, z] for x in (cuboid.lo[0], cuboid.hi[0]) for z in (cuboid.lo[2], cuboid.hi[2])])
            cast = np.concatenate([corners + y * sun for y in (cuboid.lo[1], cuboid.hi[1])])
            hull = cv2.convexHull(cast.astype(np.float32))[:, 0].astype(float)
            cv2.fillConvexPoly(mask, texels(hull), 1.0, cv2.LINE_8, 4)
        for x, y, z, r in occluder.hull_spheres:
            centre = texels(np.array([x, z]) + y * sun)
            axes = np.round(r * scale * 16).astype(int)
            cv2.ellipse(mask, tuple(centre.tolist()), tuple(axes.tolist()), 0, 0, 360, 1.0, -1, cv2.LINE_8, 4)
    mask = cv2.GaussianBlur(mask, (5, 5), 0)
    texture *= (1.0 - SHADOW_STRENGTH * mask)[..., None]
    return GroundLight(mask, origin, res)
