"""Ground truth read off the rasteriser's code map: instance map, visible boxes, joint states.

Because every label comes from the same pixels that were painted, the instance mask, the visible
boxes and the per-joint visibility states agree with the image by construction:

* a joint outside ``[0, W) x [0, H)`` is ``OUTSIDE_IMAGE``;
* otherwise the primitive owning the joint's pixel decides: one of the person's own parts that
  contains the joint -> ``VISIBLE`` (face landmarks only when they face the camera), another of the
  person's own parts (or a face landmark turned away) -> ``SELF_OCCLUDED``, another person ->
  ``OCCLUDED_BY_PERSON``, an occluder -> ``OCCLUDED_BY_OBJECT``;
* if the joint's pixel is background (a sub-pixel sliver of a distant limb that rasterised next to
  it), the nearest painted pixel of its 3x3 neighbourhood decides; with none the joint is
  ``VISIBLE`` (nothing lies between it and the camera), or ``SELF_OCCLUDED`` for a face landmark
  turned away.
"""

from __future__ import annotations

import numpy as np

from ..core.types import JointState
from .body import FACE_JOINTS, JOINT_PARTS
from .raster import Raster

__all__ = ["instance_map", "visible_boxes", "joint_states", "NEIGHBOURS"]

# Centre first, then the 4-neighbours, then the diagonals.
NEIGHBOURS = np.array([(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)])


def instance_map(raster: Raster) -> np.ndarray:
    """(H, W) int32: 0 background or occluder, ``row + 1`` for the visible pixels of person ``row``."""
    lut = (raster.code_row + 1).astype(np.int32)
    return np.take(lut, raster.code_map)


def visible_boxes(instances: np.ndarray, amodal_boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per person: xyxy box of its mask pixels (NaN when none) and the number of those pixels.

    Only the amodal box's part of the image is scanned, so the cost follows the people's size.
    Box edges enclose whole pixels: ``[x_min, y_min, x_max + 1, y_max + 1]``.
    """
    height, width = instances.shape
    n = len(amodal_boxes)
    boxes = np.full((n, 4), np.nan, np.float32)
    counts = np.zeros(n, np.int64)
    lo = np.maximum(np.floor(amodal_boxes[:, :2]).astype(np.int64) - 1, 0).tolist()
    hi = np.minimum(np.ceil(amodal_boxes[:, 2:]).astype(np.int64) + 2, [width, height]).tolist()
    for row, ((x0, y0), (x1, y1)) in enumerate(zip(lo, hi, strict=True)):
        if x1 <= x0 or y1 <= y0:
            continue
        mask = instances[y0:y1, x0:x1] == row + 1
        cols, rows = np.flatnonzero(mask.any(axis=0)), np.flatnonzero(mask.any(axis=1))
        if len(cols):
            boxes[row] = (x0 + cols[0], y0 + rows[0], x0 + cols[-1] + 1, y0 + rows[-1] + 1)
            counts[row] = int(mask.sum())
    return boxes, counts


def joint_pixels(keypoints: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer pixel (column, row) of each keypoint and whether it lies inside the image.

    Pixel ``i`` covers image coordinates ``[i, i + 1)`` (the COCO convention of the keypoints)."""
    inside = (keypoints[..., 0] >= 0) & (keypoints[..., 0] < width) & (keypoints[..., 1] >= 0) & (
        keypoints[..., 1] < height)
    px = np.clip(np.floor(np.nan_to_num(keypoints)).astype(np.int64), 0, [width - 1, height - 1])
    return px, inside


def joint_states(raster: Raster, keypoints: np.ndarray, joints_cam: np.ndarray, head_centres: np.ndarray) -> np.ndarray:
    """``(N, K)`` ``JointState`` of every joint (see the module docstring for the rules)."""
    height, width = raster.code_map.shape
    n, k = keypoints.shape[:2]
    px, inside = joint_pixels(keypoints, width, height)
    # Code at the pixel, or at the first painted pixel of the 3x3 neighbourhood.
    cols = np.clip(px[..., None, 0] + NEIGHBOURS[:, 0], 0, width - 1)
    rows = np.clip(px[..., None, 1] + NEIGHBOURS[:, 1], 0, height - 1)
    codes = raster.code_map[rows, cols]  # (N, K, 9)
    first = np.argmax(codes > 0, axis=-1)
    code = np.take_along_axis(codes, first[..., None], axis=-1)[..., 0]
    owner, part, is_object = raster.code_row[code], raster.code_part[code], raster.code_object[code]
    own = owner == np.arange(n)[:, None]
    contains = JOINT_PARTS[np.arange(k)[None, :], np.clip(part, 0, None)] & (part >= 0)
    facing = np.ones((n, k), bool)
    normals = joints_cam[:, FACE_JOINTS] - head_centres[:, None, :]
    facing[:, FACE_JOINTS] = np.einsum("nfk,nfk->nf", normals, joints_cam[:, FACE_JOINTS]) < 0
    states = np.full((n, k), JointState.VISIBLE, np.uint8)
    states[(own & ~(contains & facing)) | ((code == 0) & ~facing)] = JointState.SELF_OCCLUDED
    states[(owner >= 0) & ~own] = JointState.OCCLUDED_BY_PERSON
    states[is_object] = JointState.OCCLUDED_BY_OBJECT
    states[~inside] = JointState.OUTSIDE_IMAGE
    return states
