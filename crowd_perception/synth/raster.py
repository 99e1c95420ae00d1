"""Painter's-algorithm rasteriser for people (sphere-hull parts) and occluders (cuboid faces and
sphere hulls: cars, furniture, trees, bikes, posters, mannequins, statues; see :mod:`.object_faces`).

Every primitive is drawn with ``cv2.fillConvexPoly`` in one pass: its colour into the image (plus
a lighter, offset copy on parts large enough to show shading) and its *code* into an int32 code
map, so the code map says exactly which primitive (person row and body part, or occluder) owns
every pixel of the rendered image. A sphere projects to an ellipse stretched along the viewing
direction by ``1 / cos(theta)`` (:func:`project_spheres`). Primitives are sorted far to
near: body parts by the depth of their sphere centres; each occluder gets a depth key placed
between the people behind it and the people in front of it (decided per person with a separating
line between the person's ground position and the occluder's footprint), so a person standing
behind a parked car is hidden by it even when the car's centre is farther away. An occluder owns
one code for all its faces and hulls, so a person-shaped object is never read as a person.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .body import PART_SPHERES
from .hulls import (
    CIRCLE_POINTS,
    DIRECTIONS,
    MIN_RADIUS_PX,
    SCALE,
    SHIFT,
    from_fixed,
    hull_polygons,
    padded_index,
    project_spheres,
    to_fixed,
)
from .object_faces import ObjectBatch, object_faces
from .objects import Occluder
from .rig import CameraPose

__all__ = ["Raster", "rasterise", "project_spheres", "draw_shadows", "to_fixed", "from_fixed", "CIRCLE_POINTS",
           "MIN_RADIUS_PX"]

_PART_INDEX = padded_index(PART_SPHERES)  # part -> its spheres, padded to a fixed width


@dataclass
class Raster:
    """What the rasteriser drew.

    ``code_map`` (H, W) int32: 0 background, else a primitive code; ``code_row[c]`` is the person row
    owning code ``c`` (-1 for background and occluders), ``code_part[c]`` the body part (-1 if none),
    ``code_object[c]`` whether it is an occluder. ``boxes`` (N, 4) amodal xyxy of every person's
    projected body volume; ``amodal_pixels`` (N,) pixel count of the unoccluded silhouette, or -1
    where nothing can have covered the person (its visible pixels are then its whole silhouette).
    """

    code_map: np.ndarray
    code_row: np.ndarray
    code_part: np.ndarray
    code_object: np.ndarray
    boxes: np.ndarray
    amodal_pixels: np.ndarray


def _part_polygons(ellipses: np.ndarray, min_radius: float = MIN_RADIUS_PX) -> np.ndarray:
    """Fixed-point convex polygon of every body part of every person: ``(N, parts, CIRCLE_POINTS, 2)``."""
    return hull_polygons(ellipses, _PART_INDEX, min_radius)


def _occluder_keys(occluders: list[Occluder], pose: CameraPose, ground: np.ndarray, part_depth: np.ndarray,
                   person_boxes: np.ndarray, faces: list[list[tuple[np.ndarray, list[float]]]]) -> np.ndarray:
    """Depth key per occluder: between the people behind it and those in front (painter's order)."""
    keys = np.zeros(len(occluders))
    cam = pose.centre[[0, 2]]
    zmin, zmax = np.nanmin(part_depth, axis=1, initial=np.inf), np.nanmax(part_depth, axis=1, initial=-np.inf)
    for o, occ in enumerate(occluders):
        x0, x1, z0, z1 = occ.footprint
        centre = np.array([0.5 * (x0 + x1), 0.0, 0.5 * (z0 + z1)])
        keys[o] = pose.to_camera(centre)[2]
        if not faces[o] or not len(ground):
            continue
        pts = from_fixed(np.concatenate([f[0] for f in faces[o]]))
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
              enabled: np.ndarray, ground: np.ndarray, occluders: list[Occluder] | ObjectBatch) -> Raster:
    """Draw people and occluders onto ``image`` (in place, BGR uint8) and return what owns each pixel.

    ``spheres_cam`` (N, S, 4): sphere centres in the camera frame and radii (metres), every sphere
    in front of the camera; ``part_colours`` (N, num_parts, 3) BGR; ``enabled`` (N, num_parts)
    which parts each person has; ``ground`` (N, 2) ``(x, z)`` world ground positions of the people
    (for ordering against occluders). Parts at least ``_HIGHLIGHT_MIN_PX`` wide get a lit
    highlight (image only), so near people look rounded. ``occluders`` may come stacked once per
    street (:class:`~.object_faces.ObjectBatch`, what the generator passes every frame).
    """
    batch = occluders if isinstance(occluders, ObjectBatch) else ObjectBatch(list(occluders))
    occluders = batch.occluders
    height, width = image.shape[:2]
    k = pose.intrinsics
    n, num_parts = len(spheres_cam), len(PART_SPHERES)
    z = spheres_cam[..., 2]
    spheres_px = project_spheres(spheres_cam, k) if n else np.zeros((0, 0, 6))
    polygons = _part_polygons(spheres_px) if n else np.zeros((0, num_parts, CIRCLE_POINTS, 2), np.int32)
    boxes = _boxes(polygons, enabled)
    part_depth = np.stack([z[:, list(s)].mean(axis=1) for s in PART_SPHERES], axis=1) if n else np.zeros((0, num_parts))
    faces = object_faces(batch, pose)
    occ_keys = _occluder_keys(occluders, pose, ground, np.where(enabled, part_depth, np.nan), boxes, faces)
    highlights, lit = _highlights(spheres_px)

    # Codes: 1 + row * num_parts + part for body parts, then one code per occluder.
    num_codes = 1 + n * num_parts + len(occluders)
    code_row = np.full(num_codes, -1, np.int64)
    code_part = np.full(num_codes, -1, np.int64)
    code_object = np.zeros(num_codes, bool)
    code_row[1 : 1 + n * num_parts] = np.repeat(np.arange(n), num_parts)
    code_part[1 : 1 + n * num_parts] = np.tile(np.arange(num_parts), n)
    code_object[1 + n * num_parts :] = True

    keys = np.concatenate([np.where(enabled, part_depth, np.nan).ravel(), occ_keys])
    order = np.argsort(-keys, kind="stable")
    order = order[np.isfinite(keys[order])]  # disabled parts are not drawn
    code_map = np.zeros((height, width), np.int32)
    colours = part_colours.reshape(-1, 3).tolist()
    lighter = np.clip(part_colours.reshape(-1, 3) * 1.12 + 6.0, 0.0, 255.0).tolist()
    alone, count_after = _silhouette_plan(order, n, num_parts, boxes, faces, width, height)
    amodal = np.full(n, -1, np.int64)
    # Plain Python sequences indexed by item: much cheaper per access than numpy in this loop.
    part_list = list(polygons.reshape(n * num_parts, CIRCLE_POINTS, 2))
    highlight_list = list(highlights.reshape(n * num_parts, CIRCLE_POINTS, 2))
    lit_list = lit.ravel().tolist()
    for position, item in enumerate(order.tolist()):
        if item < n * num_parts:
            polygon = part_list[item]
            cv2.fillConvexPoly(image, polygon, colours[item], cv2.LINE_8, SHIFT)
            cv2.fillConvexPoly(code_map, polygon, item + 1, cv2.LINE_8, SHIFT)
            if lit_list[item]:
                cv2.fillConvexPoly(image, highlight_list[item], lighter[item], cv2.LINE_8, SHIFT)
            if position in count_after:  # the person's last part: nothing else has touched its box yet
                row = item // num_parts
                x0, y0, x1, y1 = _pixel_box(boxes[row])
                roi = code_map[y0:y1, x0:x1]
                amodal[row] = np.count_nonzero((roi > row * num_parts) & (roi <= (row + 1) * num_parts))
        else:
            code = item + 1
            for polygon, colour in faces[item - n * num_parts]:
                cv2.fillConvexPoly(image, polygon, colour, cv2.LINE_8, SHIFT)
                cv2.fillConvexPoly(code_map, polygon, code, cv2.LINE_8, SHIFT)
    for row in np.flatnonzero((amodal < 0) & ~alone):
        amodal[row] = _silhouette_pixels(polygons[row][enabled[row]])
    return Raster(code_map, code_row, code_part, code_object, boxes, amodal)


def _pixel_box(box: np.ndarray) -> tuple[int, int, int, int]:
    """Integer pixel range covering an xyxy box (which the caller knows lies inside the image)."""
    return int(box[0]), int(box[1]), int(box[2]) + 2, int(box[3]) + 2


def _silhouette_plan(order: np.ndarray, n: int, num_parts: int, boxes: np.ndarray,
                     faces: list[list[tuple[np.ndarray, list[float]]]], width: int, height: int
                     ) -> tuple[np.ndarray, dict[int, int]]:
    """How to get each person's silhouette pixel count without drawing it a second time.

    Only people inside the image qualify. ``alone``: no primitive of another owner drawn after the
    person's first part overlaps its box, so its visible pixels are its silhouette. ``count_after``
    (draw position -> row): nothing of another owner overlapping its box is drawn between its first
    and last part, so right after its last part its pixels in the code map are its silhouette.
    Everyone else is drawn again alone.
    """
    position = np.full(n * num_parts + len(faces), -1, np.int64)
    position[order] = np.arange(len(order))
    parts = position[: n * num_parts].reshape(n, num_parts)
    first = np.where(parts >= 0, parts, np.iinfo(np.int64).max).min(axis=1)
    last = parts.max(axis=1)
    occ_pos = position[n * num_parts :]
    occ_boxes = np.array([from_fixed(np.concatenate([np.concatenate([f[0] for f in fs]).min(0),
                                                     np.concatenate([f[0] for f in fs]).max(0)]))
                          if fs else [np.inf, np.inf, -np.inf, -np.inf] for fs in faces]).reshape(-1, 4)
    others = np.concatenate([boxes, occ_boxes])
    other_first, other_last = np.concatenate([first, occ_pos]), np.concatenate([last, occ_pos])
    overlap = ((boxes[:, None, 0] < others[None, :, 2]) & (others[None, :, 0] < boxes[:, None, 2])
               & (boxes[:, None, 1] < others[None, :, 3]) & (others[None, :, 1] < boxes[:, None, 3]))
    overlap[np.arange(n), np.arange(n)] = False
    after_first = overlap & (other_last[None, :] > first[:, None])
    during = overlap & (other_last[None, :] > first[:, None]) & (other_first[None, :] < last[:, None])
    inside = (boxes[:, 0] >= 0) & (boxes[:, 1] >= 0) & (boxes[:, 2] < width - 2) & (boxes[:, 3] < height - 2)
    alone = inside & ~after_first.any(axis=1)
    countable = inside & ~alone & ~during.any(axis=1)
    return alone, {int(last[row]): int(row) for row in np.flatnonzero(countable)}


def _boxes(polygons: np.ndarray, enabled: np.ndarray) -> np.ndarray:
    """Amodal xyxy boxes: extent of every enabled part's polygon."""
    if not len(polygons):
        return np.zeros((0, 4))
    lo = np.where(enabled[..., None], polygons.min(axis=2), np.iinfo(np.int32).max).min(axis=1)
    hi = np.where(enabled[..., None], polygons.max(axis=2), np.iinfo(np.int32).min).max(axis=1)
    return from_fixed(np.concatenate([lo, hi], axis=1))


_HIGHLIGHT_MIN_PX = 2.5
_LIGHT = np.array([-0.3, -0.35])  # highlight offset (fraction of the radius): light from the upper left


def _highlights(spheres_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smaller, offset copies of the part polygons (the lit side) and which parts are big enough.

    Polygons are only traced for people with at least one lit part (the near ones); rows of the
    others stay zero and are never drawn.
    """
    lit = spheres_px[:, _PART_INDEX, 2].max(axis=2) >= _HIGHLIGHT_MIN_PX if len(spheres_px) else np.zeros((0, 0), bool)
    polygons = np.zeros((len(spheres_px), len(PART_SPHERES), CIRCLE_POINTS, 2), np.int32)
    rows = np.flatnonzero(lit.any(axis=1)) if len(spheres_px) else np.zeros(0, np.int64)
    if len(rows):
        shrunk = spheres_px[rows].copy()
        shrunk[..., :2] += _LIGHT * shrunk[..., 2:3]
        shrunk[..., 2:4] *= 0.55
        polygons[rows] = _part_polygons(shrunk, min_radius=0.0)
    return polygons, lit.reshape(len(spheres_px), len(PART_SPHERES))


def _silhouette_pixels(parts: np.ndarray) -> int:
    """Pixels of one person drawn alone (unclipped by the image, unoccluded); ``parts`` (P, D, 2) fixed point."""
    lo = (parts.reshape(-1, 2).min(0) >> SHIFT) - 1
    hi = (parts.reshape(-1, 2).max(0) >> SHIFT) + 2
    mask = np.zeros((hi[1] - lo[1], hi[0] - lo[0]), np.uint8)
    shifted = parts - (lo << SHIFT)
    for polygon in shifted:
        cv2.fillConvexPoly(mask, polygon, 1, cv2.LINE_8, SHIFT)
    return int(cv2.countNonZero(mask))


def draw_shadows(image: np.ndarray, pose: CameraPose, ground: np.ndarray, sun: np.ndarray | None = None,
                 radius: float = 0.35, strength: int = 45) -> None:
    """Darken every person's shadow on the ground (``ground`` (N, 2) world ``(x, z)``), in place.

    A shadow is the convex hull of a disc under the feet and a smaller disc displaced by ``sun``
    (world ``(x, z)`` metres, the head's shadow; ``None`` or zero for an overcast sky). The hulls
    are projected into one mask, which is subtracted from the image inside the rows it covers;
    they are drawn before the people, so they only darken the ground.
    """
    if not len(ground):
        return
    tip = np.zeros(2) if sun is None else np.asarray(sun, dtype=float)
    # Support points of the two discs per direction (as for body parts), on the ground plane.
    directions = DIRECTIONS
    use_tip = directions @ tip + 0.7 * radius > radius
    offsets = np.where(use_tip[:, None], tip + 0.7 * radius * directions, radius * directions)  # (D, 2)
    rim = np.stack([offsets[:, 0], np.zeros(len(offsets)), offsets[:, 1]], axis=-1)
    world = np.stack([ground[:, 0], np.zeros(len(ground)), ground[:, 1]], axis=-1)[:, None] + rim  # (N, D, 3)
    cam = pose.to_camera(world)
    front = (cam[..., 2] > 0.5).all(axis=1)
    if not front.any():
        return
    pixels = np.round((pose.project(cam[front]) - 0.5) * SCALE)  # as to_fixed, range-checked before the cast
    height, width = image.shape[:2]
    inside = (pixels[..., 0].max(1) > 0) & (pixels[..., 0].min(1) < width * SCALE) & (pixels[..., 1].max(1) > 0) & (
        pixels[..., 1].min(1) < height * SCALE) & (np.abs(pixels).max(axis=(1, 2)) < 2**30)
    if not inside.any():
        return
    pixels = pixels[inside].astype(np.int32)
    y0 = int(np.clip(pixels[..., 1].min() // SCALE, 0, height - 1))
    y1 = int(np.clip(pixels[..., 1].max() // SCALE + 2, y0 + 1, height))
    mask: np.ndarray = np.zeros((y1 - y0, width), np.uint8)
    offset = np.array([0, y0 << SHIFT], np.int32)
    for polygon in pixels:
        cv2.fillConvexPoly(mask, polygon - offset, strength, cv2.LINE_8, SHIFT)
    mask = cv2.GaussianBlur(mask, (5, 5), 0)
    roi = image[y0:y1]
    cv2.subtract(roi, cv2.merge([mask, mask, mask]), dst=roi)
