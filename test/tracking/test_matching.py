"""Cost matrices, gating fusion and assignment on small worked examples."""

from __future__ import annotations

import lap
import numpy as np
import pytest

from crowd_perception.tracking.matching import embedding_distance, fuse_motion, iou_distance, linear_assignment


def test_embedding_distance_euclidean_is_jde_cosine_is_true_cosine():
    tracks = np.array([[1.0, 0.0], [0.6, 0.8]])
    dets = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    np.testing.assert_allclose(
        embedding_distance(tracks, dets, "euclidean"), [[0, np.sqrt(2), 2], [np.sqrt(0.8), np.sqrt(0.4), np.sqrt(3.2)]]
    )
    np.testing.assert_allclose(embedding_distance(tracks, dets, "cosine"), [[0, 1, 2], [0.4, 0.2, 1.6]], atol=1e-12)
    assert embedding_distance(tracks[:0], dets).shape == (0, 3)
    with pytest.raises(ValueError, match="metric"):
        embedding_distance(tracks, dets, "manhattan")


def test_iou_distance():
    d = iou_distance(np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]]))
    np.testing.assert_allclose(d, [[0, 1 - 50 / 150, 1]])


def test_fuse_motion_weights_and_gate():
    appearance = np.array([[0.1, 0.1, 0.5]])
    maha = np.array([[5.0, 9.4877, 9.5]])
    fused = fuse_motion(appearance, maha, gate=9.4877, weight=0.98)
    np.testing.assert_allclose(fused[0, :2], [0.98 * 0.1 + 0.02 * 5, 0.98 * 0.1 + 0.02 * 9.4877])
    assert np.isinf(fused[0, 2])


def test_linear_assignment_worked_example():
    cost = np.array(
        [
            [0.1, 0.2, np.inf],
            [0.15, 0.9, np.inf],
            [np.inf, np.inf, 0.8],  # above the limit: stays unmatched
        ]
    )
    matches, u_rows, u_cols = linear_assignment(cost, 0.7)
    # row 0 -> col 1 and row 1 -> col 0 (0.35) beats row 0 -> col 0 alone (0.1 + 2 * 0.35 unmatched)
    assert sorted(map(tuple, matches.tolist())) == [(0, 1), (1, 0)]
    assert u_rows.tolist() == [2] and u_cols.tolist() == [2]
    empty = linear_assignment(np.zeros((0, 4)), 0.7)
    assert empty[0].shape == (0, 2) and empty[2].tolist() == [0, 1, 2, 3]


def _objective(cost: np.ndarray, matches: np.ndarray, limit: float) -> float:
    """lapjv's extended objective: matched costs plus limit / 2 per unmatched row or column."""
    unmatched = sum(cost.shape) - 2 * len(matches)
    return cost[matches[:, 0], matches[:, 1]].sum() + unmatched * limit / 2


def test_linear_assignment_has_the_same_optimum_as_lapjv():
    rng = np.random.default_rng(0)
    limit = 0.7
    for _ in range(40):
        n, m = rng.integers(1, 150, size=2)  # up to 149 x 149: stars, one packed call and several
        cost = rng.uniform(0, 2, size=(n, m))
        cost[rng.random((n, m)) < 0.9] = np.inf  # sparse, like a gated matrix
        ours = linear_assignment(cost, limit)[0]
        _, x, _ = lap.lapjv(cost, extend_cost=True, cost_limit=limit)
        ref = np.stack([np.flatnonzero(x >= 0), x[x >= 0]], axis=1)
        assert np.all(cost[ours[:, 0], ours[:, 1]] < limit)
        assert _objective(cost, ours, limit) == pytest.approx(_objective(cost, ref, limit))


@pytest.mark.parametrize("density", [0.3, 1.0])
def test_small_matrices_solved_whole_have_the_same_optimum_as_lapjv(density):
    rng = np.random.default_rng(1)
    limit = 0.7
    for _ in range(60):
        n, m = rng.integers(1, 17, size=2)  # at most 16 x 16: one dense solve, not the component search
        cost = rng.uniform(0, 1.2, size=(n, m))
        cost[rng.random((n, m)) > density] = np.inf
        ours, u_rows, u_cols = linear_assignment(cost, limit)
        _, x, _ = lap.lapjv(cost, extend_cost=True, cost_limit=limit)
        ref = np.stack([np.flatnonzero(x >= 0), x[x >= 0]], axis=1)
        assert np.all(cost[ours[:, 0], ours[:, 1]] < limit)
        assert _objective(cost, ours, limit) == pytest.approx(_objective(cost, ref, limit))
        assert sorted([*ours[:, 0], *u_rows]) == list(range(n)) and sorted([*ours[:, 1], *u_cols]) == list(range(m))
