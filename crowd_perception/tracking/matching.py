"""Cost matrices, gating and assignment for the tracker (all ``(tracks, detections)`` matrices).

- :func:`embedding_distance`: JDE's distance is the *Euclidean* distance between unit vectors
  (its code passes ``metric="cosine"`` but never forwards it to ``cdist``); ``"cosine"`` is the
  true ``1 - cos`` distance.
- :func:`fuse_motion`: JDE's gated fusion ``lambda * appearance + (1 - lambda) * d_maha^2`` with
  infeasible pairs where the squared Mahalanobis distance exceeds the chi-square gate.
- :func:`linear_assignment`: ``lap.lapjv`` with a cost limit, exactly what JDE calls, but solved
  per connected component of the feasible pairs, which gives the same optimum and keeps crowds
  of hundreds of people fast (the gate makes the bipartite graph very sparse).
"""

from __future__ import annotations

import lap
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..core.boxes import box_iou

__all__ = ["iou_distance", "embedding_distance", "fuse_motion", "linear_assignment", "Assignment"]

Assignment = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(matches (K, 2) [row, col], unmatched rows, unmatched cols)``."""


def iou_distance(track_boxes: np.ndarray, det_boxes: np.ndarray) -> np.ndarray:
    """``1 - IoU`` of ``xyxy`` boxes, ``(N, M)``."""
    return 1.0 - box_iou(track_boxes, det_boxes)


def embedding_distance(track_features: np.ndarray, det_features: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """Appearance distance of unit vectors: ``"euclidean"`` in [0, 2] (JDE) or ``"cosine"`` ``1 - cos`` in [0, 2]."""
    a = np.asarray(track_features, dtype=np.float64)
    b = np.asarray(det_features, dtype=np.float64)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    cosine = 1.0 - a @ b.T
    if metric == "cosine":
        return np.maximum(cosine, 0.0)
    if metric == "euclidean":
        return np.sqrt(np.maximum(2.0 * cosine, 0.0))  # |a - b| for unit vectors
    raise ValueError(f"unknown embedding metric {metric!r} (use 'euclidean' or 'cosine')")


def fuse_motion(appearance: np.ndarray, gating_distance: np.ndarray, gate: float, weight: float = 0.98) -> np.ndarray:
    """``weight * appearance + (1 - weight) * gating_distance``, ``inf`` where ``gating_distance > gate``."""
    fused = weight * appearance + (1.0 - weight) * gating_distance
    return np.where(gating_distance > gate, np.inf, fused)


def linear_assignment(cost: np.ndarray, limit: float) -> Assignment:
    """Minimum-cost matching where a pair is allowed only if its cost is below ``limit``.

    Same objective as ``lap.lapjv(cost, extend_cost=True, cost_limit=limit)`` (what JDE uses):
    every unmatched row or column costs ``limit / 2``. Pairs at or above the limit can never
    improve that objective, so the problem splits into the connected components of the graph of
    feasible pairs; each is solved with ``lapjv`` separately (singletons directly).
    """
    cost = np.asarray(cost, dtype=np.float64)
    n_rows, n_cols = cost.shape
    no_match = (np.zeros((0, 2), dtype=np.int64), np.arange(n_rows), np.arange(n_cols))
    if cost.size == 0:
        return no_match
    rows, cols = np.nonzero(cost < limit)
    if len(rows) == 0:
        return no_match
    graph = coo_matrix((np.ones(len(rows)), (rows, n_rows + cols)), shape=(n_rows + n_cols,) * 2)
    _, labels = connected_components(graph, directed=False)
    edge_label = labels[rows]
    order = np.argsort(edge_label, kind="stable")
    bounds = np.flatnonzero(np.diff(edge_label[order])) + 1
    matches = []
    for group in np.split(order, bounds):
        r, c = np.unique(rows[group]), np.unique(cols[group])
        if len(r) == 1 or len(c) == 1:  # a star: the single best pair is optimal
            sub = cost[np.ix_(r, c)]
            i, j = np.unravel_index(np.argmin(sub), sub.shape)
            matches.append([r[i], c[j]])
            continue
        _, x, _ = lap.lapjv(cost[np.ix_(r, c)], extend_cost=True, cost_limit=limit)
        matched = x >= 0
        matches.extend(np.stack([r[matched], c[x[matched]]], axis=1).tolist())
    matches = np.asarray(matches, dtype=np.int64).reshape(-1, 2)
    return (
        matches,
        np.setdiff1d(np.arange(n_rows), matches[:, 0]),
        np.setdiff1d(np.arange(n_cols), matches[:, 1]),
    )
