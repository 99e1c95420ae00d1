"""Network outputs -> :class:`Poses2D` in image pixels (numpy; shared by torch evaluation and every backend).

The network returns, per crop, the target-joint heatmaps ``H_t (N, K, h, w)`` and per-joint
occlusion logits ``(N, K)``. Decoding takes the sub-pixel peak (:mod:`.decode`), maps it from
heatmap to crop to image coordinates with the exact inverse of the crop transform, and turns the
occlusion probability into a :class:`JointState` (``VISIBLE`` / ``OCCLUDED``).
"""

from __future__ import annotations

import numpy as np

from ...core.skeletons import get_skeleton
from ...core.types import JointState, Poses2D
from .crops import compose_transforms, heatmap_transforms, invert_transforms, transform_points
from .decode import decode_heatmaps

__all__ = ["merge_flipped", "merge_flipped_logits", "postprocess"]


def merge_flipped(heatmaps: np.ndarray, flipped_heatmaps: np.ndarray, skeleton: str) -> np.ndarray:
    """Average heatmaps with those of the mirrored crops, mirrored back (left/right channels swapped).

    Exact with the centre-aligned heatmap convention of :mod:`.crops` (no pixel shift needed).
    """
    perm = get_skeleton(skeleton).flip_permutation()
    return 0.5 * (heatmaps + flipped_heatmaps[:, perm, :, ::-1])


def merge_flipped_logits(logits: np.ndarray, flipped_logits: np.ndarray, skeleton: str) -> np.ndarray:
    """Average per-joint logits ``(N, K)`` with those of the mirrored crops (left/right swapped)."""
    return 0.5 * (logits + flipped_logits[:, get_skeleton(skeleton).flip_permutation()])


def postprocess(
    heatmaps: np.ndarray,
    occlusion_logits: np.ndarray | None,
    transforms: np.ndarray,
    boxes: np.ndarray,
    skeleton: str,
    stride: float,
    sigma: float = 2.0,
    refine: str = "dark",
    occlusion_threshold: float = 0.5,
) -> Poses2D:
    """Decode ``(N, K, h, w)`` heatmaps of crops made with image->crop ``transforms (N, 2, 3)``.

    Scores are the heatmap peaks clipped to [0, 1]; the person score is their mean. ``boxes``
    are the input person boxes (copied into the result, one pose per box, in order).
    """
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    n, k = heatmaps.shape[:2]
    if k != get_skeleton(skeleton).num_joints:
        raise ValueError(f"{k} heatmap channels for skeleton {skeleton} ({get_skeleton(skeleton).num_joints} joints)")
    if len(transforms) != n or len(boxes) != n:
        raise ValueError(f"{n} heatmaps, {len(transforms)} transforms and {len(boxes)} boxes")
    if n == 0:
        return Poses2D.empty(skeleton)
    locations, peaks = decode_heatmaps(heatmaps, refine=refine, sigma=sigma)
    heatmap_to_image = compose_transforms(invert_transforms(transforms), invert_transforms(heatmap_transforms(stride)[None]))
    keypoints = transform_points(locations, heatmap_to_image)
    scores = np.clip(peaks, 0.0, 1.0)
    states = np.full((n, k), JointState.UNKNOWN, dtype=np.uint8)
    if occlusion_logits is not None:
        p_occluded = 1.0 / (1.0 + np.exp(-np.asarray(occlusion_logits, dtype=np.float64)))
        states = np.where(p_occluded > occlusion_threshold, JointState.OCCLUDED, JointState.VISIBLE).astype(np.uint8)
    return Poses2D(skeleton, keypoints, scores, states, np.asarray(boxes, dtype=np.float32), scores.mean(axis=1))
