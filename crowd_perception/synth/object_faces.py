"""Screen polygons of the street's objects in one frame: cuboid faces and sphere hulls, in batches.

A street's objects are static, so their geometry is stacked once (:class:`ObjectBatch`) and every
frame transforms, culls and projects all cuboid faces in one go and traces all hulls in one call,
instead of a few small array operations per object. The result is, per object, its polygons in
draw order (cuboid faces first, then hulls), as the rasteriser paints them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .hulls import SCALE, hull_polygons, project_spheres, to_fixed
from .objects import Cuboid, Occluder
from .rig import CameraPose
from .world import NEAR, clip_polygon_near

__all__ = ["ObjectBatch", "object_faces", "Face"]

Face = tuple[np.ndarray, list[float]]
"""A fixed-point polygon and its BGR colour."""
FACE_SHADE = np.array([0.8, 0.8, 0.6, 1.1, 0.9, 0.9])
"""Brightness of the cuboid faces -X, +X, -Y, +Y, -Z, +Z (light from above)."""


@dataclass
class ObjectBatch:
    """All objects of a street stacked: cuboids and hulls with the object each belongs to."""

    occluders: list[Occluder]
    corners: np.ndarray = field(init=False)  # (C, 6, 4, 3)
    cuboid_owner: np.ndarray = field(init=False)  # (C,)
    shades: np.ndarray = field(init=False)  # (C, 6, 3) shaded colour of every face
    spheres: np.ndarray = field(init=False)  # (S, 4)
    hull_index: np.ndarray = field(init=False)  # (H, K) rows of ``spheres``
    hull_owner: np.ndarray = field(init=False)  # (H,)
    hull_colours: list[list[float]] = field(init=False)

    def __post_init__(self) -> None:
        occ = self.occluders
        self.corners = np.concatenate([o.corners for o in occ]) if occ else np.zeros((0, 6, 4, 3))
        self.cuboid_owner = np.repeat(np.arange(len(occ)), [len(o.cuboids) for o in occ]).astype(np.int64)
        colours = np.concatenate([o.colours for o in occ]) if occ else np.zeros((0, 3))
        self.shades = np.clip(colours[:, None, :] * FACE_SHADE[None, :, None], 0, 255)
        owners = [o for o, occluder in enumerate(occ) if occluder.hulls]
        width = max((occ[o].hull_index.shape[1] for o in owners), default=1)
        index, offset = [], 0
        for o in owners:
            rows = occ[o].hull_index + offset
            index.append(np.pad(rows, ((0, 0), (0, width - rows.shape[1])), mode="edge"))
            offset += len(occ[o].hull_spheres)
        self.hull_index = np.concatenate(index) if index else np.zeros((0, 1), np.int64)
        self.hull_owner = np.repeat(owners, [len(occ[o].hulls) for o in owners]).astype(np.int64)
        self.hull_colours = [h.colour.tolist() for o in owners for h in occ[o].hulls]
        self.spheres = np.concatenate([occ[o].hull_spheres for o in owners]) if owners else np.zeros((0, 4))


def object_faces(batch: ObjectBatch, pose: CameraPose) -> list[list[Face]]:
    """Per object, its polygons in the view in draw order: front-facing cuboid faces, then hulls.

    Cuboids entirely behind the near plane or beside the view are skipped, faces crossing the
    near plane are clipped; a hull is traced through its spheres in front of the near plane.
    """
    out: list[list[Face]] = [[] for _ in batch.occluders]
    _cuboid_faces(batch, pose, out)
    _hull_faces(batch, pose, out)
    return out


def _cuboid_faces(batch: ObjectBatch, pose: CameraPose, out: list[list[Face]]) -> None:
    if not len(batch.corners):
        return
    k = pose.intrinsics
    cam = pose.to_camera(batch.corners)  # (C, 6, 4, 3)
    z = cam[..., 2]
    safe = np.where(z > NEAR, z, NEAR)
    u = k.fx * cam[..., 0] / safe + k.cx
    x_cam = cam[..., 0].reshape(len(cam), -1)
    u_flat = u.reshape(len(cam), -1)
    beside = ((u_flat.max(1) < 0) & (x_cam < 0).all(1)) | ((u_flat.min(1) >= k.width) & (x_cam > 0).all(1))
    seen = (z.reshape(len(cam), -1).max(1) >= NEAR) & ~beside
    facing = np.einsum("fk,cfk->cf", Cuboid.NORMALS, pose.centre - batch.corners.mean(axis=2)) > 0
    pixels = to_fixed(np.stack([u, k.fy * cam[..., 1] / safe + k.cy], axis=-1))
    crossing = z.min(axis=2) < NEAR  # (C, 6)
    for c, f in zip(*np.nonzero(facing & seen[:, None]), strict=True):
        if not crossing[c, f]:
            polygon = pixels[c, f]
        else:
            clipped = clip_polygon_near(cam[c, f])
            if len(clipped) < 3:
                continue
            polygon = to_fixed(pose.project(clipped))
        out[batch.cuboid_owner[c]].append((polygon, batch.shades[c, f].tolist()))


def _hull_faces(batch: ObjectBatch, pose: CameraPose, out: list[list[Face]]) -> None:
    if not len(batch.spheres):
        return
    k = pose.intrinsics
    cam = np.concatenate([pose.to_camera(batch.spheres[:, :3]), batch.spheres[:, 3:]], axis=1)
    front = cam[:, 2] - cam[:, 3] > 2 * NEAR
    in_front = front[batch.hull_index]  # (H, K)
    drawable = in_front.any(axis=1)
    if not drawable.any():
        return
    # A hull reaching the near plane keeps the spheres in front of it (a tree crown above the camera
    # loses its nearest clump, not all of it): the others are replaced by one of its front spheres.
    rows = np.arange(len(in_front))
    index = np.where(in_front, batch.hull_index, batch.hull_index[rows, np.argmax(in_front, axis=1)][:, None])
    safe = np.where(front[:, None], cam, [0.0, 0.0, 1.0, 0.01])  # placeholders, never drawn
    polygons = hull_polygons(project_spheres(safe, k)[None], index)[0]
    lo, hi = polygons.min(axis=1), polygons.max(axis=1)
    drawable &= (hi[:, 0] >= 0) & (lo[:, 0] < k.width * SCALE) & (hi[:, 1] >= 0) & (lo[:, 1] < k.height * SCALE)
    for h in np.flatnonzero(drawable):
        out[batch.hull_owner[h]].append((polygons[h], batch.hull_colours[h]))
