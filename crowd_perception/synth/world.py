"""The static street: layout, procedural textures (road, pavement, facades), sky and occluders.

Surfaces are textured planes rendered with one homography each (``cv2.warpPerspective``), clipped
to the part of the plane in front of the camera, so a moving camera costs three warps per frame.
Static occluders (parked cars, poles, bins, benches, bollards) are unions of axis-aligned cuboids
drawn by the rasteriser in depth order together with the people.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from .palette import Palette, pick_colours
from .rig import CameraPose

__all__ = ["StreetLayout", "Cuboid", "Occluder", "Street", "build_street", "clip_polygon_near"]

NEAR = 0.15  # metres: geometry closer than this to the camera plane is clipped
_GROUND_RES = (16.0, 8.0)  # texture pixels per metre across / along the street
_FACADE_RES = 10.0  # texture pixels per metre on the facades
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


@dataclass(frozen=True)
class Cuboid:
    """Axis-aligned box ``[x0, x1] x [y0, y1] x [z0, z1]`` with a BGR colour."""

    lo: np.ndarray
    hi: np.ndarray
    colour: np.ndarray

    NORMALS = np.array([[-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0], [0, 0, -1], [0, 0, 1]], dtype=float)
    """Outward normals of the faces, in the order of :meth:`faces`."""

    def faces(self) -> tuple[np.ndarray, np.ndarray]:
        """``(6, 4, 3)`` face corners and ``(6, 3)`` outward normals."""
        (x0, y0, z0), (x1, y1, z1) = self.lo, self.hi
        corners = np.array(
            [
                [[x0, y0, z0], [x0, y1, z0], [x0, y1, z1], [x0, y0, z1]],  # -X
                [[x1, y0, z0], [x1, y0, z1], [x1, y1, z1], [x1, y1, z0]],  # +X
                [[x0, y0, z0], [x1, y0, z0], [x1, y0, z1], [x0, y0, z1]],  # -Y
                [[x0, y1, z0], [x0, y1, z1], [x1, y1, z1], [x1, y1, z0]],  # +Y
                [[x0, y0, z0], [x0, y1, z0], [x1, y1, z0], [x1, y0, z0]],  # -Z
                [[x0, y0, z1], [x1, y0, z1], [x1, y1, z1], [x0, y1, z1]],  # +Z
            ]
        )
        return corners, self.NORMALS


@dataclass(frozen=True)
class Occluder:
    """A static object: cuboids drawn in order, and its ground footprint ``(x0, x1, z0, z1)``."""

    kind: str
    cuboids: tuple[Cuboid, ...]
    footprint: np.ndarray

    @cached_property
    def corners(self) -> np.ndarray:
        """``(C, 6, 4, 3)`` face corners of every cuboid (normals: ``Cuboid.NORMALS``)."""
        return np.stack([c.faces()[0] for c in self.cuboids])

    @cached_property
    def colours(self) -> np.ndarray:
        """``(C, 3)`` BGR colour of every cuboid."""
        return np.stack([c.colour for c in self.cuboids])


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
        polygon = clip_polygon_near(pose.to_camera(self.corners()))
        if len(polygon) < 3:
            return
        pixels = pose.project(polygon)
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
        shapes = [polygon] if self.outlines is None else self._visible_outlines(pose)
        for shape in shapes:
            fixed = np.round((pose.project(shape) - (x0 + 0.5, y0 + 0.5)) * 16).astype(np.int32)
            cv2.fillConvexPoly(mask, fixed, 255, cv2.LINE_8, 4)
        cv2.copyTo(warped, mask, image[y0:y1, x0:x1])

    def _visible_outlines(self, pose: CameraPose) -> list[np.ndarray]:
        """Camera-frame outlines in front of the near plane (clipped where they cross it)."""
        cam = pose.to_camera(self.outlines)
        z = cam[..., 2]
        shapes = []
        for quad, depth in zip(cam[z.max(axis=1) > NEAR], z[z.max(axis=1) > NEAR], strict=True):
            shape = quad if depth.min() >= NEAR else clip_polygon_near(quad)
            if len(shape) >= 3:
                shapes.append(shape)
        return shapes


class Street:
    """Everything static in one sequence: layout, textured surfaces, sky and occluders."""

    def __init__(self, layout: StreetLayout, planes: list[_TexturedPlane], sky: np.ndarray,
                 occluders: list[Occluder]) -> None:
        self.layout = layout
        self.planes = planes
        self.sky = sky
        self.occluders = occluders

    def render_background(self, pose: CameraPose) -> np.ndarray:
        """Sky, ground and facades seen from ``pose`` as a BGR image."""
        image = self.sky.copy()
        for plane in self.planes:
            plane.draw(image, pose)
        return image


def build_street(rng: np.random.Generator, palette: Palette, layout: StreetLayout, pose0: CameraPose,
                 num_occluders: int, lane_x: float) -> Street:
    """Procedural street for one sequence (textures, sky for the camera's pitch, occluders)."""
    planes = [_ground_plane(rng, palette, layout)]
    for side in (-1.0, 1.0):
        planes.append(_facade_plane(rng, palette, layout, side))
    sky = _sky(rng, palette, pose0)
    occluders = _occluders(rng, palette, layout, num_occluders, lane_x)
    return Street(layout, planes, sky, occluders)


def _noise(rng: np.random.Generator, shape: tuple[int, int], std: float) -> np.ndarray:
    """Smooth texture grain: Gaussian noise drawn at half resolution and upsampled (4x fewer samples)."""
    small = rng.standard_normal(((shape[0] + 1) // 2, (shape[1] + 1) // 2), dtype=np.float32) * np.float32(std)
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _ground_plane(rng: np.random.Generator, palette: Palette, layout: StreetLayout) -> _TexturedPlane:
    rx, rz = _GROUND_RES
    x_lo = -layout.facade_x - 0.5
    width = int(np.ceil(2 * (layout.facade_x + 0.5) * rx))
    length = int(np.ceil((layout.z_end - layout.z_start) * rz))
    xs = x_lo + np.arange(width) / rx
    zs = layout.z_start + np.arange(length) / rz
    road_colour = pick_colours(rng, palette.road, 1, 6)[0]
    pave_colour = pick_colours(rng, palette.pavement, 1, 8)[0]
    on_road = np.abs(xs) <= layout.road_half
    tex = np.where(on_road[None, :, None], road_colour, pave_colour).astype(np.float32)
    tex = np.broadcast_to(tex, (length, width, 3)).copy()
    tex += _noise(rng, (length, width), 7.0)[..., None]
    # Pavement slabs (a darker seam every ~1 m) and kerbs.
    seam_z = (np.mod(zs, rng.uniform(0.8, 1.5)) < 1.0 / rz)[:, None] & ~on_road[None, :]
    tex[seam_z] *= 0.8
    kerb = (np.abs(np.abs(xs) - layout.road_half) < 0.15)
    tex[:, kerb] = 0.5 * tex[:, kerb] + 0.5 * 200.0
    # Lane markings: dashed centre line and solid edge lines.
    white = np.array([235.0, 235.0, 235.0])
    centre = np.abs(xs) < 0.08
    dashes = np.mod(zs, 9.0) < 3.0
    tex[np.ix_(dashes, centre)] = white
    edge = np.abs(np.abs(xs) - (layout.road_half - 0.3)) < 0.07
    tex[:, edge] = white
    # Zebra crossing: stripes across the road along X.
    zebra_z = np.abs(zs - layout.crossing_z) < 2.0
    stripes = on_road & (np.mod(xs, 1.0) < 0.5) & ~edge
    tex[np.ix_(zebra_z, stripes)] = white * 0.95
    texture = np.clip(tex, 0, 255).astype(np.uint8)
    return _TexturedPlane(texture, np.array([x_lo, 0.0, layout.z_start]), np.array([1.0 / rx, 0.0, 0.0]),
                          np.array([0.0, 0.0, 1.0 / rz]))


def _facade_plane(rng: np.random.Generator, palette: Palette, layout: StreetLayout, side: float) -> _TexturedPlane:
    """Buildings along one side: blocks of varied width, height and colour with window grids."""
    res = _FACADE_RES
    length = int(np.ceil((layout.z_end - layout.z_start) * res))
    height = int(_FACADE_HEIGHT * res)
    tex = np.zeros((height, length, 3), np.float32)
    x = side * layout.facade_x
    outlines = []
    z = 0.0
    total = layout.z_end - layout.z_start
    while z < total:
        w = rng.uniform(8.0, 25.0)
        h = rng.uniform(7.0, _FACADE_HEIGHT - 1.0)
        c0, c1 = int(z * res), min(int((z + w) * res), length)
        top = height - int(h * res)
        block = tex[top:, c0:c1]  # a view: the building's part of the texture
        block[:] = pick_colours(rng, palette.facades, 1, 10)[0]
        glass = pick_colours(rng, palette.windows, 1, 10)[0]
        floor_h, win_w, spacing = rng.uniform(2.8, 3.5), rng.uniform(0.9, 1.6), rng.uniform(2.2, 3.5)
        height_m = (block.shape[0] - np.arange(block.shape[0])) / res  # metres above the ground
        along = np.arange(block.shape[1]) / res
        in_floor = (np.mod(height_m, floor_h) > 0.9) & (np.mod(height_m, floor_h) < 0.9 + 1.4) & (height_m > floor_h)
        block[np.ix_(in_floor, np.mod(along, spacing) < win_w)] = glass
        shop = (height_m > 0.4) & (height_m < 2.6)
        block[np.ix_(shop, np.mod(along, rng.uniform(4.0, 7.0)) < rng.uniform(2.0, 3.5))] = glass * 0.8
        block[:3] *= 0.7  # roof edge
        z0, z1 = layout.z_start + c0 / res, layout.z_start + (c1 - 1) / res
        roof = (height - top - 0.5) / res  # the top texel row, so no texel above the roof is sampled
        outlines.append([[x, 0.0, z0], [x, 0.0, z1], [x, roof, z1], [x, roof, z0]])
        z += w + (rng.uniform(0.0, 4.0) if rng.random() < 0.25 else 0.0)
    tex += _noise(rng, (height, length), 5.0)[..., None]
    tex = np.clip(tex, 0, 255).astype(np.uint8)
    origin = np.array([x, _FACADE_HEIGHT, layout.z_start])
    return _TexturedPlane(tex, origin, np.array([0.0, 0.0, 1.0 / res]), np.array([0.0, -1.0 / res, 0.0]),
                          np.array(outlines))


def _sky(rng: np.random.Generator, palette: Palette, pose: CameraPose) -> np.ndarray:
    """Vertical gradient from the zenith colour to the horizon colour at the horizon row."""
    k = pose.intrinsics
    top = pick_colours(rng, palette.sky_top, 1, 8)[0]
    horizon_colour = pick_colours(rng, palette.sky_horizon, 1, 8)[0]
    # Horizon row: image of a far point straight ahead at camera height.
    far = pose.to_camera(pose.centre + np.array([0.0, 0.0, 1e4]))
    horizon = float(np.clip(k.fy * far[1] / far[2] + k.cy, 1.0, k.height - 1.0))
    rows = np.arange(k.height, dtype=np.float32)
    t = np.clip(rows / horizon, 0.0, 1.0)[:, None]
    column = (1 - t) * top + t * horizon_colour
    return np.broadcast_to(column[:, None, :], (k.height, k.width, 3)).astype(np.uint8).copy()


def _occluders(rng: np.random.Generator, palette: Palette, layout: StreetLayout, count: int,
               lane_x: float) -> list[Occluder]:
    """Parked cars along the kerb, poles at the pavement edge, bins, benches and bollards."""
    occluders: list[Occluder] = []
    z_lo, z_hi = 3.0, layout.z_end - 150.0  # from just ahead of the camera to the end of its path + view
    kinds = rng.choice(["car", "pole", "bin", "bench", "bollard"], size=count, p=[0.4, 0.25, 0.12, 0.1, 0.13])
    taken: list[np.ndarray] = []
    for kind in kinds:
        for _ in range(10):  # rejection sampling: footprints must not overlap
            side = rng.choice([-1.0, 1.0])
            z = z_lo + (z_hi - z_lo) * rng.random() ** 1.5
            if kind == "car":
                x = side * (layout.road_half - 1.15)
                if abs(x - lane_x) < 2.0 or abs(z - layout.crossing_z) < 5.0:
                    continue  # not in the vehicle's lane, not on the zebra crossing
                occluder = _car(rng, palette, x, z)
            else:
                x = side * (layout.road_half + rng.uniform(0.35, 0.8 if kind != "bench" else 1.2))
                occluder = _furniture(rng, palette, kind, x, z)
            fp = occluder.footprint
            if all(fp[1] + 0.3 < o[0] or o[1] + 0.3 < fp[0] or fp[3] + 0.3 < o[2] or o[3] + 0.3 < fp[2]
                   for o in taken):
                taken.append(fp)
                occluders.append(occluder)
                break
    return occluders


def _box(x: float, z: float, size: tuple[float, float, float], y0: float, colour: np.ndarray) -> Cuboid:
    sx, sy, sz = size
    return Cuboid(np.array([x - sx / 2, y0, z - sz / 2]), np.array([x + sx / 2, y0 + sy, z + sz / 2]), colour)


def _car(rng: np.random.Generator, palette: Palette, x: float, z: float) -> Occluder:
    length, width = rng.uniform(3.8, 4.8), rng.uniform(1.65, 1.9)
    paint = pick_colours(rng, palette.vehicles, 1, 10)[0]
    tyre = np.array([25.0, 25.0, 28.0])
    glass = np.array([60.0, 50.0, 45.0])
    axle = 0.36 * length
    cuboids = (
        _box(x, z - axle, (width * 0.98, 0.55, 0.62), 0.0, tyre),
        _box(x, z + axle, (width * 0.98, 0.55, 0.62), 0.0, tyre),
        _box(x, z, (width, rng.uniform(0.55, 0.7), length), 0.3, paint),
        _box(x, z - 0.1 * length, (width * 0.9, rng.uniform(0.42, 0.55), length * 0.52), 0.95, glass),
    )
    return Occluder("car", cuboids, np.array([x - width / 2, x + width / 2, z - length / 2, z + length / 2]))


def _furniture(rng: np.random.Generator, palette: Palette, kind: str, x: float, z: float) -> Occluder:
    colour = pick_colours(rng, palette.furniture, 1, 10)[0]
    size = {
        "pole": (0.12, rng.uniform(3.0, 5.5), 0.12),
        "bin": (0.55, rng.uniform(0.9, 1.1), 0.55),
        "bench": (0.6, 0.5, rng.uniform(1.5, 2.2)),
        "bollard": (0.2, rng.uniform(0.8, 1.0), 0.2),
    }[kind]
    cuboids = [_box(x, z, size, 0.0, colour)]
    if kind == "pole":  # a sign board near the top
        board = pick_colours(rng, palette.vehicles, 1, 20)[0]
        cuboids.append(_box(x, z, (0.06, 0.6, 0.6), size[1] - 0.8, board))
    sx, sz = size[0] / 2, size[2] / 2
    return Occluder(kind, tuple(cuboids), np.array([x - sx, x + sx, z - sz, z + sz]))
