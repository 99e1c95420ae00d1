"""Painter's-algorithm rasteriser for people (sphere-hull parts) and occluders (cuboid faces).

Every primitive is drawn with ``cv2.fillConvexPoly`` twice in the same pass: its colour into the
image and its *code* into an int32 code map, so the code map says exactly which primitive (person
row and body part, or occluder) owns every pixel of the rendered image. Primitives are sorted far to
near: body parts by the depth of their sphere centres; each occluder gets a depth key placed
between the people behind it and the people in front of it (decided per person with a separating
line between the person's ground position and the occluder's footprint), so a person standing
behind a parked car is hidden by it even when the car's centre is farther away.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .body import PART_SPHERES
from .rig import CameraPose
from .world import Occluder, clip_polygon_near

__all__ = ["Raster", "rasterise", "CIRCLE_POINTS", "MIN_RADIUS_PX"]

CIRCLE_POINTS = 12
MIN_RADIUS_PX = 0.75
_SHIFT = 4
_SCALE = float(1 << _SHIFT)
_ANGLES = np.linspace(0.0, 2 * np.pi, CIRCLE_POINTS, endpoint=False)
# Circle polygon radius so that the inscribed polygon covers the true circle's area.
_UNIT_CIRCLE = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=-1) / np.sqrt(
    np.sin(2 * np.pi / CIRCLE_POINTS) * CIRCLE_POINTS / (2 * np.pi))
_FACE_SHADE = np.array([0.8, 0.8, 0.6, 1.1, 0.9, 0.9])  # -X, +X, -Y, +Y, -Z, +Z


@dataclass
class Raster:
    """What the rasteriser drew.

    ``code_map`` (H, W) int32: 0 background, else a primitive code; ``code_row[c]`` is the person row
    owning code ``c`` (-1 for background and occluders), ``code_part[c]`` the body part (-1 if none),
    ``code_object[c]`` whether it is an occluder. ``boxes`` (N, 4) amodal xyxy of every person's
    projected body volume; ``amodal_pixels`` (N,) pixel count of the unoccluded silhouette.
    """

    code_map: np.ndarray
    code_row: np.ndarray
    code_part: np.ndarray
    code_object: np.ndarray
    boxes: np.ndarray
    amodal_pixels: np.ndarray


def _part_polygons(spheres_px: np.ndarray) -> list[list[np.ndarray]]:
    """Fixed-point convex hull of every part of every person: ``[person][part] -> (M, 1, 2) int32``."""
    centres, radii = spheres_px[..., :2], np.maximum(spheres_px[..., 2], MIN_RADIUS_PX)
    circles = centres[:, :, None, :] + radii[:, :, None, None] * _UNIT_CIRCLE  # (N, S, K, 2)
    fixed = np.round(circles * _SCALE).astype(np.int32)
    polygons = []
    for person in fixed:
        polygons.append([cv2.convexHull(person[list(spheres)].reshape(-1, 2)) for spheres in PART_SPHERES])
    return polygons


def _occluder_faces(occluder: Occluder, pose: CameraPose) -> list[tuple[np.ndarray, np.ndarray]]:
    """Front-facing faces of an occluder as ``(fixed-point polygon, shaded colour)`` in draw order."""
    faces = []
    for cuboid in occluder.cuboids:
        corners, normals = cuboid.faces()
        centres = corners.mean(axis=1)
        facing = np.einsum("fk,fk->f", normals, pose.centre - centres) > 0
        for f in np.flatnonzero(facing):
            polygon = clip_polygon_near(pose.to_camera(corners[f]))
            if len(polygon) >= 3:
                pixels = pose.project(polygon)
                faces.append((np.round(pixels * _SCALE).astype(np.int32), np.clip(cuboid.colour * _FACE_SHADE[f], 0, 255)))
    return faces


def _occluder_keys(occluders: list[Occluder], pose: CameraPose, ground: np.ndarray, part_depth: np.ndarray,
                   person_boxes: np.ndarray, faces: list[list[tuple[np.ndarray, np.ndarray]]]) -> np.ndarray:
    """Depth key per occluder: between the people behind it and those in front (painter's order)."""
    keys = np.zeros(len(occluders))
    cam = pose.centre[[0, 2]]
    zmin, zmax = part_depth.min(axis=1, initial=np.inf), part_depth.max(axis=1, initial=-np.inf)
    for o, occ in enumerate(occluders):
        x0, x1, z0, z1 = occ.footprint
        centre = np.array([0.5 * (x0 + x1), 0.0, 0.5 * (z0 + z1)])
        keys[o] = pose.to_camera(centre)[2]
        if not faces[o] or not len(ground):
            continue
        pts = np.concatenate([f[0] for f in faces[o]]) / _SCALE
        ox0, oy0 = pts.min(0)
        ox1, oy1 = pts.max(0)
        overlap = ((person_boxes[:, 0] < ox1) & (person_boxes[:, 2] > ox0) & (person_boxes[:, 1] < oy1)
                   & (person_boxes[:, 3] > oy0))
        if not overlap.any():
            continue
        closest = np.stack([np.clip(ground[:, 0], x0, x1), np.clip(ground[:, 1], z0, z1)], axis=-1)
        normal = ground - closest
        behind = np.einsum("nk,nk->n", cam - closest, normal) < 0
        lo = zmax[overlap & ~behind].max(initial=-np.inf)  # the key must exceed people in front ...
        hi = zmin[overlap & behind].min(initial=np.inf)  # ... and stay below people behind
        if lo < hi:  # otherwise the order is contradictory; keep the centre depth
            keys[o] = np.clip(keys[o], lo + 1e-3, hi - 1e-3) if hi - lo > 2e-3 else 0.5 * (lo + hi)
    return keys


def rasterise(image: np.ndarray, pose: CameraPose, spheres_cam: np.ndarray, part_colours: np.ndarray,
              ground: np.ndarray, occluders: list[Occluder]) -> Raster:
    """Draw people and occluders onto ``image`` (in place, BGR uint8) and return what owns each pixel.

    ``spheres_cam`` (N, S, 4): sphere centres in the camera frame and radii (metres), every sphere
    in front of the camera; ``part_colours`` (N, num_parts, 3) BGR; ``ground`` (N, 2) ``(x, z)``
    world ground positions of the people (for ordering against occluders).
    """
    height, width = image.shape[:2]
    k = pose.intrinsics
    n, num_parts = len(spheres_cam), len(PART_SPHERES)
    z = spheres_cam[..., 2]
    spheres_px = np.stack([k.fx * spheres_cam[..., 0] / z + k.cx, k.fy * spheres_cam[..., 1] / z + k.cy,
                           k.fx * spheres_cam[..., 3] / z], axis=-1) if n else np.zeros((0, 0, 3))
    polygons = _part_polygons(spheres_px) if n else []
    boxes = np.array([_hull_box(p) for p in polygons]).reshape(-1, 4)
    part_depth = np.stack([z[:, list(s)].mean(axis=1) for s in PART_SPHERES], axis=1) if n else np.zeros((0, num_parts))
    faces = [_occluder_faces(o, pose) for o in occluders]
    occ_keys = _occluder_keys(occluders, pose, ground, part_depth, boxes, faces)

    # Codes: 1 + row * num_parts + part for body parts, then one code per occluder.
    num_codes = 1 + n * num_parts + len(occluders)
    code_row = np.full(num_codes, -1, np.int64)
    code_part = np.full(num_codes, -1, np.int64)
    code_object = np.zeros(num_codes, bool)
    code_row[1 : 1 + n * num_parts] = np.repeat(np.arange(n), num_parts)
    code_part[1 : 1 + n * num_parts] = np.tile(np.arange(num_parts), n)
    code_object[1 + n * num_parts :] = True

    keys = np.concatenate([part_depth.ravel(), occ_keys])
    order = np.argsort(-keys, kind="stable")
    code_map = np.zeros((height, width), np.int32)
    colours = part_colours.reshape(-1, 3)
    for item in order:
        if item < n * num_parts:
            row, part = divmod(int(item), num_parts)
            polygon = polygons[row][part]
            cv2.fillConvexPoly(image, polygon, colours[item].tolist(), cv2.LINE_8, _SHIFT)
            cv2.fillConvexPoly(code_map, polygon, int(item) + 1, cv2.LINE_8, _SHIFT)
        else:
            code = int(item) + 1
            for polygon, colour in faces[item - n * num_parts]:
                cv2.fillConvexPoly(image, polygon, colour.tolist(), cv2.LINE_8, _SHIFT)
                cv2.fillConvexPoly(code_map, polygon, code, cv2.LINE_8, _SHIFT)
    amodal = np.array([_silhouette_pixels(p) for p in polygons], dtype=np.int64)
    return Raster(code_map, code_row, code_part, code_object, boxes, amodal)


def _hull_box(parts: list[np.ndarray]) -> np.ndarray:
    pts = np.concatenate(parts).reshape(-1, 2) / _SCALE
    return np.concatenate([pts.min(0), pts.max(0)])


def _silhouette_pixels(parts: list[np.ndarray]) -> int:
    """Pixels of one person drawn alone (unclipped by the image, unoccluded)."""
    pts = np.concatenate(parts).reshape(-1, 2)
    lo = (pts.min(0) >> _SHIFT) - 1
    hi = (pts.max(0) >> _SHIFT) + 2
    mask = np.zeros((hi[1] - lo[1], hi[0] - lo[0]), np.uint8)
    offset = lo << _SHIFT
    for polygon in parts:
        cv2.fillConvexPoly(mask, polygon - offset, 1, cv2.LINE_8, _SHIFT)
    return int(cv2.countNonZero(mask))
