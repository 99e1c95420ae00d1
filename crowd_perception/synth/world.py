"""The static street: layout, procedural textures (road, pavement, facades), sky and occluders.

Surfaces are textured planes rendered with one homography each (``cv2.warpPerspective``), clipped
to the part of the plane in front of the camera, so a moving camera costs five warps per frame
(ground, and per side the upper facade and the finer shop fronts; textures: :mod:`.textures`).
Static objects (:mod:`.clutter`: cars, furniture, trees, bikes, posters, mannequins, statues) are
unions of cuboids and sphere hulls drawn by the rasteriser in depth order together with the people.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .clutter import place_clutter
from .objects import Cuboid, Occluder
from .palette import Palette
from .rig import CameraPose
from .shadows import SHADOW_STRENGTH, GroundLight, bake_shadows
from .textures import SHOP_HEIGHT, Block, facade_texture, ground_texture, shopfront_texture, sky_image

__all__ = ["StreetLayout", "Cuboid", "Occluder", "Street", "build_street", "clip_polygon_near"]

NEAR = 0.15  # metres: geometry closer than this to the camera plane is clipped
_GROUND_RES = (16.0, 8.0)  # texture pixels per metre across / along the street
_FACADE_RES = 8.0  # texture pixels per metre on the facades
_SHOP_RES = 20.0  # ... and on the shop fronts (at pedestrian height, where detail matters)
_FACADE_HEIGHT = 30.0


@dataclass(frozen=True)
class StreetLayout:
    """Road half width, pavement width, street extent along ``Z`` and a zebra crossing position."""

    road_half: float
    pavement: float
    z_start: float
    z_end: float
    crossing_z: float

    @property
    def facade_x(self) -> float:
        return self.road_half + self.pavement


def clip_polygon_near(points: np.ndarray, near: float = NEAR) -> np.ndarray:
    """Sutherland-Hodgman clip of a convex ``(M, 3)`` camera-frame polygon to ``z >= near``."""
    out = []
    m = len(points)
    for i in range(m):
        a, b = points[i], points[(i + 1) % m]
        ina, inb = a[2] >= near, b[2] >= near
        if ina:
            out.append(a)
        if ina != inb:
            t = (near - a[2]) / (b[2] - a[2])
            out.append(a + t * (b - a))
    return np.array(out).reshape(-1, 3)


@dataclass
class _TexturedPlane:
    """A textured world rectangle: ``world(u, v) = origin + u * du + v * dv`` for texture pixel (u, v).

    ``outlines`` (B, 4, 3) are world quads of the parts of the rectangle that exist (the buildings
    of a facade, each up to its roofline); ``None`` means the whole rectangle. Masking with their
    projections is cheaper than warping an alpha channel.
    """

    texture: np.ndarray
    origin: np.ndarray
    du: np.ndarray
    dv: np.ndarray
    outlines: np.ndarray | None = None

    def corners(self) -> np.ndarray:
        h, w = self.texture.shape[:2]
        return self.origin + np.array([0 * self.du, (w - 1) * self.du, (w - 1) * self.du + (h - 1) * self.dv,
                                       (h - 1) * self.dv])

    def draw(self, image: np.ndarray, pose: CameraPose) -> None:
        """Warp the texture into ``image`` (in place), only over the projection of what exists of the plane."""
        polygon = clip_polygon_near(pose.to_camera(self.corners()))
        if len(polygon) < 3:
            return
        shapes = [pose.project(polygon)] if self.outlines is None else [
            pose.project(shape) for shape in self._visible_outlines(pose)]
        if not shapes:
            return
        pixels = np.concatenate(shapes)
        height, width = image.shape[:2]
        x0, y0 = np.floor(pixels.min(0)).astype(int)
        x1, y1 = np.ceil(pixels.max(0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if x1 <= x0 or y1 <= y0:
            return
        # Texture pixel -> image pixel homography, shifted into the region of interest.
        r, t = pose.rotation, pose.rotation @ (self.origin - pose.centre)
        h = pose.intrinsics.matrix @ np.stack([r @ self.du, r @ self.dv, t], axis=1)
        # Output pixel (i, j) of the region has its centre at image coordinates (x0 + i + 0.5, y0 + j + 0.5).
        h = np.array([[1.0, 0.0, -x0 - 0.5], [0.0, 1.0, -y0 - 0.5], [0.0, 0.0, 1.0]]) @ h
        size = (x1 - x0, y1 - y0)
        warped = cv2.warpPerspective(self.texture, h, size, flags=cv2.INTER_LINEAR)
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        for shape in shapes:
            fixed = np.round((shape - (x0 + 0.5, y0 + 0.5)) * 16).astype(np.int32)
            cv2.fillConvexPoly(mask, fixed, 255, cv2.LINE_8, 4)
        cv2.copyTo(warped, mask, image[y0:y1, x0:x1])

    def _visible_outlines(self, pose: CameraPose) -> list[np.ndarray]:
        """Camera-frame outlines in front of the near plane (clipped where they cross it)."""
        if self.outlines is None:
            return []
        cam = pose.to_camera(self.outlines)
        z = cam[..., 2]
        whole = cam[z.min(axis=1) >= NEAR]  # most are wholly in front: no clipping
        crossing = cam[(z.max(axis=1) > NEAR) & (z.min(axis=1) < NEAR)]
        clipped = [shape for shape in map(clip_polygon_near, crossing) if len(shape) >= 3]
        return list(whole) + clipped


class Street:
    """Everything static in one sequence: layout, textured surfaces, sky and occluders."""

    def __init__(self, layout: StreetLayout, planes: list[_TexturedPlane], sky: np.ndarray,
                 occluders: list[Occluder], light: GroundLight | None = None) -> None:
        self.layout = layout
        self.planes = planes
        self.sky = sky
        self.occluders = occluders
        self.light = light

    def light_at(self, ground: np.ndarray) -> np.ndarray:
        """``(N,)`` sunlight factor at ground points ``(N, 2)`` ``(x, z)``: 1 in the sun or under clouds, less in shadow."""
        return np.ones(len(ground)) if self.light is None else self.light.at(ground)

    def render_background(self, pose: CameraPose) -> np.ndarray:
        """Sky, ground and facades seen from ``pose`` as a BGR image."""
        image = self.sky.copy()
        for plane in self.planes:
            plane.draw(image, pose)
        return image


def build_street(rng: np.random.Generator, palette: Palette, layout: StreetLayout, pose0: CameraPose,
                 num_occluders: int, lane_x: float, sun: np.ndarray | None = None) -> Street:
    """Procedural street for one sequence: clutter, textured facades and shop fronts, ground with
    the static shadows of ``sun`` (ground displacement per metre of height; ``None``: overcast), sky."""
    sun = np.zeros(2) if sun is None else np.asarray(sun, dtype=float)
    occluders = place_clutter(rng, palette, layout, num_occluders, lane_x)
    planes, blocks = [], {}
    for side in (-1.0, 1.0):
        # The buildings whose shadows fall onto the street face away from the sun.
        facade, shopfront, blocks[side] = _facade_planes(rng, palette, layout, side, shaded=np.hypot(*sun) > 0.05
                                                         and side * sun[0] < 0)
        planes += [facade, shopfront]
    texture, x_lo = ground_texture(rng, palette, layout, _GROUND_RES)
    light = bake_shadows(texture, (x_lo, layout.z_start), _GROUND_RES, sun, layout.facade_x, blocks, layout.z_start,
                         occluders)
    rx, rz = _GROUND_RES
    ground = _TexturedPlane(_to_uint8(texture), np.array([x_lo, 0.0, layout.z_start]), np.array([1.0 / rx, 0.0, 0.0]),
                            np.array([0.0, 0.0, 1.0 / rz]))
    return Street(layout, [ground, *planes], sky_image(rng, palette, pose0), occluders, light)


def _to_uint8(texture: np.ndarray) -> np.ndarray:
    return np.clip(texture, 0, 255).astype(np.uint8)


def _facade_planes(rng: np.random.Generator, palette: Palette, layout: StreetLayout, side: float, shaded: bool
                   ) -> tuple[_TexturedPlane, _TexturedPlane, list[Block]]:
    """Upper facade and shop-front planes of one side, and its buildings; ``shaded``: the side facing away
    from the sun (lit by the sky only)."""
    texture, blocks, bottom = facade_texture(rng, palette, layout, _FACADE_RES, _FACADE_HEIGHT)
    shops = shopfront_texture(rng, palette, blocks, layout.z_end - layout.z_start, _SHOP_RES)
    if shaded:
        texture *= 1.0 - SHADOW_STRENGTH
        shops *= 1.0 - SHADOW_STRENGTH
    x = side * layout.facade_x
    along = np.array([0.0, 0.0, 1.0])

    def outlines(low: float, top: float) -> np.ndarray:
        return np.array([[[x, low, layout.z_start + b.z0], [x, low, layout.z_start + b.z1],
                          [x, min(top, b.height), layout.z_start + b.z1], [x, min(top, b.height), layout.z_start + b.z0]]
                         for b in blocks])

    facade = _TexturedPlane(_to_uint8(texture), np.array([x, _FACADE_HEIGHT, layout.z_start]), along / _FACADE_RES,
                            np.array([0.0, -1.0 / _FACADE_RES, 0.0]), outlines(bottom, _FACADE_HEIGHT))
    # The shop-front texture's top texel row sits half a texel below SHOP_HEIGHT, so no texel above it is sampled.
    top = SHOP_HEIGHT - 0.5 / _SHOP_RES
    shopfront = _TexturedPlane(_to_uint8(shops), np.array([x, top, layout.z_start]), along / _SHOP_RES,
                               np.array([0.0, -1.0 / _SHOP_RES, 0.0]), outlines(0.0, top))
    return facade, shopfront, blocks
