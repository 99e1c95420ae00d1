"""Training targets of one crop, in heatmap coordinates (numpy).

* ``H_t`` – joints of the target person (the one the crop was made for): one Gaussian per joint;
* ``H_m`` – multi-joint heatmap: the same joint channels with *every* person's joints in the crop
  (target and interference), as RSGNet's multi-joint branch predicts them;
* limb maps ``H_l`` – one map per skeleton limb, a Gaussian of the distance to the limb segment
  of the target person (RSGNet's skeleton graph machine supervision, BCE);
* relation map ground truth – ``A*[p, q] = t_p t_q`` over the (pooled) heatmap positions, where
  ``t`` is the target person's joint map ``max_k H_t``: 1 between two positions that both lie on
  the target's joints, 0 where either is background or another person's joint;
* instance mask – the target's visible pixels (Das et al.'s mask head), area-averaged to the
  heatmap grid;
* occlusion labels – 1 occluded / 0 visible per joint, with a weight that is 0 where unknown.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...core.types import JointState

__all__ = [
    "joint_weights",
    "gaussian_heatmaps",
    "limb_maps",
    "relation_target",
    "mask_target",
    "occlusion_labels",
]


def joint_weights(points: np.ndarray, size: tuple[int, int], sigma: float) -> np.ndarray:
    """``(..., K)`` float weights: 1 for labelled joints whose Gaussian touches the ``(h, w)`` grid."""
    h, w = size
    points = np.asarray(points, dtype=np.float64)
    finite = np.isfinite(points).all(axis=-1)
    safe = np.where(np.isfinite(points), points, -1e6)
    margin = 3 * sigma
    inside = (
        (safe[..., 0] > -margin) & (safe[..., 0] < w - 1 + margin) & (safe[..., 1] > -margin) & (safe[..., 1] < h - 1 + margin)
    )
    return (finite & inside).astype(np.float32)


def gaussian_heatmaps(points: np.ndarray, size: tuple[int, int], sigma: float) -> np.ndarray:
    """``(K, h, w)`` heatmaps of ``points (P, K, 2)`` (P people, heatmap pixels, NaN = unlabelled).

    Each labelled joint is an unnormalised Gaussian (peak 1 at the sub-pixel location, which the
    sub-pixel decoder can then recover); people are merged by the pixel-wise maximum.
    """
    h, w = size
    points = np.asarray(points, dtype=np.float64).reshape(-1, np.shape(points)[-2], 2)
    k = points.shape[1]
    maps = np.zeros((k, h, w), dtype=np.float32)
    valid = joint_weights(points, size, sigma) > 0
    if not valid.any():
        return maps
    xs, ys = np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64)
    for p, j in zip(*np.nonzero(valid), strict=True):
        gx = np.exp(-((xs - points[p, j, 0]) ** 2) / (2 * sigma**2))
        gy = np.exp(-((ys - points[p, j, 1]) ** 2) / (2 * sigma**2))
        np.maximum(maps[j], np.outer(gy, gx).astype(np.float32), out=maps[j])
    return maps


def limb_maps(
    points: np.ndarray, limbs: tuple[tuple[int, int], ...], size: tuple[int, int], sigma: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(L, h, w)`` limb maps of one person's ``points (K, 2)`` and ``(L,)`` weights.

    A limb's map is ``exp(-d^2 / 2 sigma^2)`` with ``d`` the distance to its segment; a limb is
    supervised (weight 1) only when both end joints are labelled.
    """
    h, w = size
    points = np.asarray(points, dtype=np.float64)
    maps = np.zeros((len(limbs), h, w), dtype=np.float32)
    weights = np.zeros(len(limbs), dtype=np.float32)
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64)), axis=-1)
    for i, (a, b) in enumerate(limbs):
        pa, pb = points[a], points[b]
        if not (np.isfinite(pa).all() and np.isfinite(pb).all()):
            continue
        weights[i] = 1.0
        seg = pb - pa
        length2 = float(seg @ seg)
        t = np.clip(((grid - pa) @ seg) / length2, 0.0, 1.0) if length2 > 1e-12 else np.zeros((h, w))
        d2 = ((grid - (pa + t[..., None] * seg)) ** 2).sum(-1)
        maps[i] = np.exp(-d2 / (2 * sigma**2))
    return maps, weights


def relation_target(target_heatmaps: np.ndarray, pool: int = 1) -> np.ndarray:
    """``(S, S)`` relation ground truth from ``H_t (K, h, w)``; ``S = (h / pool) (w / pool)``.

    ``pool`` matches the relation parser's sub-sampling (max pooling), so target and prediction
    are defined on the same positions.
    """
    t = np.asarray(target_heatmaps, dtype=np.float32).max(axis=0)
    if pool > 1:
        h, w = t.shape
        if h % pool or w % pool:
            raise ValueError(f"heatmap {h}x{w} is not divisible by the relation pooling {pool}")
        t = t.reshape(h // pool, pool, w // pool, pool).max(axis=(1, 3))
    t = t.reshape(-1)
    return np.outer(t, t)


def mask_target(crop_mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Visible-pixel mask of the crop (``(H, W)`` bool/0-1) area-averaged to the ``(h, w)`` heatmap grid."""
    h, w = size
    return cv2.resize(np.asarray(crop_mask, dtype=np.float32), (w, h), interpolation=cv2.INTER_AREA)


def occlusion_labels(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-joint ``(labels, weights)`` from ``JointState`` values: occluded 1, visible 0, unknown weight 0."""
    states = np.asarray(states)
    occluded = JointState.is_occluded(states)
    known = occluded | (states == JointState.VISIBLE)
    return occluded.astype(np.float32), known.astype(np.float32)
