"""Anchor shapes by k-means with the IoU distance (YOLOv2), and the dense anchor grid of the output map.

PandaNet uses ``N_A = 10`` anchors found by clustering the training boxes' (width, height) with
``d(box, centroid) = 1 - IoU`` of the two boxes placed on a common centre, so that clusters are
balanced across scales (a Euclidean distance would let large boxes dominate).
"""

from __future__ import annotations

import numpy as np

__all__ = ["wh_iou", "kmeans_anchors", "anchor_grid"]


def wh_iou(wh_a: np.ndarray, wh_b: np.ndarray) -> np.ndarray:
    """IoU of ``(N, 2)`` and ``(M, 2)`` (width, height) boxes sharing one centre -> ``(N, M)``."""
    wh_a = np.asarray(wh_a, dtype=np.float64).reshape(-1, 2)
    wh_b = np.asarray(wh_b, dtype=np.float64).reshape(-1, 2)
    inter = np.minimum(wh_a[:, None, 0], wh_b[None, :, 0]) * np.minimum(wh_a[:, None, 1], wh_b[None, :, 1])
    union = wh_a[:, None].prod(-1) + wh_b[None, :].prod(-1) - inter
    return inter / np.maximum(union, 1e-12)


def kmeans_anchors(wh: np.ndarray, k: int = 10, seed: int = 0, max_iter: int = 300) -> np.ndarray:
    """Cluster box sizes ``(N, 2)`` into ``k`` anchors with the ``1 - IoU`` distance.

    k-means++ seeding (with the same distance), then Lloyd iterations with the median as the cluster
    centre (robust to outliers) until assignments stop changing. Returns ``(k, 2)`` sorted by area.
    """
    wh = np.asarray(wh, dtype=np.float64).reshape(-1, 2)
    wh = wh[np.all(np.isfinite(wh) & (wh > 0), axis=1)]
    if len(wh) < k:
        raise ValueError(f"need at least k={k} valid boxes to cluster, got {len(wh)}")
    rng = np.random.default_rng(seed)
    seeds = [wh[rng.integers(len(wh))]]  # k-means++ seeding
    for _ in range(1, k):
        d = 1.0 - wh_iou(wh, np.array(seeds)).max(axis=1)
        p = d**2
        seeds.append(wh[rng.choice(len(wh), p=p / p.sum())] if p.sum() > 0 else wh[rng.integers(len(wh))])
    centres = np.array(seeds)
    assignment = np.full(len(wh), -1)
    for _ in range(max_iter):
        new = np.argmax(wh_iou(wh, centres), axis=1)
        if np.array_equal(new, assignment):
            break
        assignment = new
        for j in range(k):
            members = wh[assignment == j]
            if len(members):
                centres[j] = np.median(members, axis=0)
    return centres[np.argsort(centres.prod(axis=1))]


def anchor_grid(anchor_wh: np.ndarray, grid_h: int, grid_w: int, stride: float) -> np.ndarray:
    """All anchors of an output map as ``(grid_h * grid_w * N_A, 4)`` xyxy, ordered (row, column, anchor).

    Anchor centres are the cell centres ``((i + 0.5) * stride)``; this order matches the flattened
    network outputs (see ``model.PandaNet``).
    """
    anchor_wh = np.asarray(anchor_wh, dtype=np.float64).reshape(-1, 2)
    ys = (np.arange(grid_h) + 0.5) * stride
    xs = (np.arange(grid_w) + 0.5) * stride
    cy, cx = np.meshgrid(ys, xs, indexing="ij")
    centres = np.stack([cx, cy], -1)[:, :, None, :]  # (H, W, 1, 2)
    half = anchor_wh[None, None] / 2.0
    boxes = np.concatenate([centres - half, centres + half], axis=-1)  # (H, W, A, 4)
    return boxes.reshape(-1, 4).astype(np.float32)
