"""The boxes-only crowd simulation used by the benchmarks."""

from __future__ import annotations

import numpy as np

from crowd_perception.tracking.simulation import simulate_crowd, visible_fractions


def test_frames_are_seeded_and_well_formed():
    a = list(simulate_crowd(20, 30, seed=4))
    b = list(simulate_crowd(20, 30, seed=4))
    assert len(a) == 30
    for fa, fb in zip(a, b, strict=True):
        np.testing.assert_array_equal(fa.boxes, fb.boxes)
        assert fa.boxes.shape == (20, 4) and len(np.unique(fa.ids)) == 20
        assert np.all((fa.visible_fractions >= 0) & (fa.visible_fractions <= 1))
    assert a[1].stamp_ns - a[0].stamp_ns == 33_333_333


def test_churn_replaces_identities():
    frames = list(simulate_crowd(10, 300, seed=0, mean_lifetime_s=1.0))
    assert frames[-1].ids.max() > 30  # about 10 new people per second


def test_visible_fraction_of_a_person_behind_another():
    boxes = np.array([[0, 0, 10, 20], [5, 0, 15, 30]], dtype=float)  # the second is closer (lower bottom edge)
    np.testing.assert_allclose(visible_fractions(boxes), [0.5, 1.0])
