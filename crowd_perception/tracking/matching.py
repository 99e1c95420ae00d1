"""Cost matrices, gating and assignment for the tracker (all ``(tracks, detections)`` matrices).

- :func:`embedding_distance`: JDE's distance is the *Euclidean* distance between unit vectors
  (its code passes ``metric="cosine"`` but never forwards it to ``cdist``); ``"cosine"`` is the
  true ``1 - cos`` distance.
- :func:`fuse_motion`: JDE's gated fusion ``lambda * appearance + (1 - lambda) * d_maha^2`` with
  infeasible pairs where the squared Mahalanobis distance exceeds the chi-square gate.
- :func:`linear_assignment`: ``lap.lapjv`` with a cost limit, exactly what JDE calls, but solved
  per connected component of the feasible pairs, which gives the same optimum and keeps crowds
  of hundreds of people fast (the gate makes the bipartite graph very sparse). A small matrix
  (a few people) is solved in one ``linear_sum_assignment`` call instead: there the fixed cost
  of finding components is larger than the whole problem.
"""

from __future__ import annotations

import lap
import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..core.boxes import box_iou

__all__ = [
    "iou_distance",
    "embedding_distance",
    "paired_embedding_distance",
    "fuse_motion",
    "linear_assignment",
    "Assignment",
]

Assignment = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(matches (K, 2) [row, col], unmatched rows, unmatched cols)``."""


def iou_distance(track_boxes: np.ndarray, det_boxes: np.ndarray) -> np.ndarray:
    """``1 - IoU`` of ``xyxy`` boxes, ``(N, M)``."""
    return 1.0 - box_iou(track_boxes, det_boxes)


def embedding_distance(track_features: np.ndarray, det_features: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """Appearance distance of unit vectors: ``"euclidean"`` in [0, 2] (JDE) or ``"cosine"`` ``1 - cos`` in [0, 2]."""
    a = np.asarray(track_features, dtype=np.float64)
    b = np.asarray(det_features, dtype=np.float64)
    return _from_cosine(1.0 - a @ b.T, metric)


def paired_embedding_distance(a: np.ndarray, b: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """Row-wise :func:`embedding_distance` of two ``(K, D)`` arrays of unit vectors, ``(K,)``."""
    cosine = 1.0 - np.einsum("kd,kd->k", np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    return _from_cosine(cosine, metric)


def _from_cosine(cosine_distance: np.ndarray, metric: str) -> np.ndarray:
    distance: np.ndarray
    if metric == "cosine":
        distance = np.maximum(cosine_distance, 0.0)
        return distance
    if metric == "euclidean":
        distance = np.sqrt(np.maximum(2.0 * cosine_distance, 0.0))  # |a - b| for unit vectors
        return distance
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
    feasible pairs. Isolated pairs (the common case after gating) are matched directly; a
    component with a single row or a single column (a "star") by its cheapest pair, all stars at
    once; the others with ``lapjv``, several small components per call. A matrix of at most
    ``_DIRECT_CELLS`` cells is solved whole by :func:`_solve_small`.
    """
    cost = np.asarray(cost, dtype=np.float64)
    n_rows, n_cols = cost.shape
    if cost.size == 0:
        return np.zeros((0, 2), dtype=np.int64), np.arange(n_rows), np.arange(n_cols)
    if cost.size <= _DIRECT_CELLS:
        matches = _solve_small(cost, limit)
        return _with_unmatched(matches, n_rows, n_cols)
    rows, cols = np.nonzero(cost < limit)
    # pairs whose row and column have no other feasible pair: matched as they are
    isolated = (np.bincount(rows, minlength=n_rows)[rows] == 1) & (np.bincount(cols, minlength=n_cols)[cols] == 1)
    found = [np.stack([rows[isolated], cols[isolated]], axis=1)]
    rows, cols = rows[~isolated], cols[~isolated]
    if len(rows):
        label = _component_labels(rows, cols, n_rows, n_cols)
        n_labels = label.max() + 1
        distinct_rows = np.bincount(np.unique(label * n_rows + rows) // n_rows, minlength=n_labels)
        distinct_cols = np.bincount(np.unique(label * n_cols + cols) // n_cols, minlength=n_labels)
        star = (distinct_rows == 1) | (distinct_cols == 1)
        on_star = star[label]
        # cheapest pair of every star: sort by (label, cost) and take each label's first edge
        star_rows, star_cols, star_label = rows[on_star], cols[on_star], label[on_star]
        order = np.lexsort((cost[star_rows, star_cols], star_label))
        first = np.diff(star_label[order], prepend=-1) != 0
        found.append(np.stack([star_rows[order][first], star_cols[order][first]], axis=1))
        rows, cols, label = rows[~on_star], cols[~on_star], label[~on_star]
        if len(rows):
            found.extend(_solve_components(cost, rows, cols, label, limit))
    return _with_unmatched(np.concatenate(found).astype(np.int64), n_rows, n_cols)


_DIRECT_CELLS = 16 * 16  # up to this many cells one dense solve is cheaper than the component search


def _solve_small(cost: np.ndarray, limit: float) -> np.ndarray:
    """Optimal matches below ``limit`` of a small matrix, ``(K, 2)``.

    Clipping the cost at ``limit`` gives the objective of the extended problem that ``lapjv`` solves
    with ``cost_limit`` (a pair at the limit costs as much as leaving its row and column unmatched,
    ``limit / 2`` each), so a complete rectangular assignment of the clipped matrix, with the pairs
    at the limit dropped, is an optimum of it.
    """
    r, c = linear_sum_assignment(np.minimum(cost, limit))
    keep = cost[r, c] < limit
    return np.array((r[keep], c[keep])).T  # (K, 2); cheaper than np.stack on a few pairs


def _with_unmatched(matches: np.ndarray, n_rows: int, n_cols: int) -> Assignment:
    """The assignment triple: ``matches`` and the rows and columns they leave free."""
    free_rows = np.ones(n_rows, dtype=bool)
    free_rows[matches[:, 0]] = False
    free_cols = np.ones(n_cols, dtype=bool)
    free_cols[matches[:, 1]] = False
    return matches, free_rows.nonzero()[0], free_cols.nonzero()[0]


_BATCH_CELLS = 64 * 64  # components are packed into lapjv calls of at most this many cells


def _solve_components(
    cost: np.ndarray, rows: np.ndarray, cols: np.ndarray, label: np.ndarray, limit: float
) -> list[np.ndarray]:
    """``lapjv`` on the components given by edge ``label``, several small ones per call.

    Components are independent, so a block-diagonal sub-matrix of several (infeasible between
    blocks) has the same optimum as each block alone; packing them saves per-call overhead.
    """
    n_rows, n_cols = cost.shape
    comp_rows = np.unique(label * n_rows + rows)  # (component, row) pairs, sorted by component
    comp_cols = np.unique(label * n_cols + cols)
    row_label, col_label = comp_rows // n_rows, comp_cols // n_cols
    present = np.unique(label)
    row_counts = np.bincount(row_label)[present]
    col_counts = np.bincount(col_label)[present]
    starts, r_total, c_total = [0], 0, 0
    for i, (r, c) in enumerate(zip(row_counts.tolist(), col_counts.tolist(), strict=True)):
        if i > starts[-1] and (r_total + r) * (c_total + c) > _BATCH_CELLS:
            starts.append(i)
            r_total = c_total = 0
        r_total, c_total = r_total + r, c_total + c
    first_labels = present[starts]
    row_splits = np.split(comp_rows % n_rows, np.searchsorted(row_label, first_labels[1:]))
    col_splits = np.split(comp_cols % n_cols, np.searchsorted(col_label, first_labels[1:]))
    return [_lapjv(cost, r, c, limit) for r, c in zip(row_splits, col_splits, strict=True)]


def _lapjv(cost: np.ndarray, r: np.ndarray, c: np.ndarray, limit: float) -> np.ndarray:
    """``lapjv`` with a cost limit on the sub-matrix ``r x c``; matches as ``(K, 2)`` original indices."""
    _, x, _ = lap.lapjv(cost[np.ix_(r, c)], extend_cost=True, cost_limit=limit)
    matched = x >= 0
    return np.stack([r[matched], c[x[matched]]], axis=1)


def _component_labels(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> np.ndarray:
    """Connected-component label of every edge of the bipartite graph given by the edges."""
    graph = coo_matrix((np.ones(len(rows)), (rows, n_rows + cols)), shape=(n_rows + n_cols,) * 2)
    _, labels = connected_components(graph, directed=False)
    edge_labels: np.ndarray = labels[rows]
    return edge_labels
