"""Struct-of-arrays track storage."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.tracking.pool import LOST, TRACKED, TrackPool


def _rows(n: int, first_id: int) -> dict:
    return {
        "ids": np.arange(first_id, first_id + n),
        "mean": np.zeros((n, 8)),
        "cov": np.tile(np.eye(8), (n, 1, 1)),
        "features": np.ones((n, 4)) / 2,
        "state": np.full(n, TRACKED),
        "activated": np.ones(n, bool),
        "start_clock": np.zeros(n),
        "last_clock": np.zeros(n),
        "start_stamp": np.zeros(n, int),
        "last_stamp": np.zeros(n, int),
        "hits": np.ones(n, int),
        "score": np.ones(n),
        "box": np.zeros((n, 4)),
    }


def test_append_and_keep_stay_row_aligned():
    pool = TrackPool(embedding_dim=4)
    pool.append(**_rows(3, 1))
    pool.append(**_rows(2, 4))
    pool.state[1] = LOST
    pool.keep(np.array([True, False, True, True, False]))
    assert pool.ids.tolist() == [1, 3, 4] and pool.state.tolist() == [TRACKED] * 3
    assert pool.cov.shape == (3, 8, 8) and pool.features.shape == (3, 4) and len(pool) == 3


def test_append_needs_every_field():
    rows = _rows(1, 1)
    del rows["score"]
    with pytest.raises(ValueError, match="fields"):
        TrackPool(4).append(**rows)
