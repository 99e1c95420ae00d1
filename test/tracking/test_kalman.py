"""Kalman filter pinned to values computed by hand from JDE's noise model (h = 100 px)."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.tracking.kalman import CHI2INV95, KalmanFilter, dense_gating_distance, gate_candidates

Z = np.array([[10.0, 20.0, 0.5, 100.0]])


def test_initiate_zero_velocity_and_jde_covariance():
    mean, cov = KalmanFilter().initiate(Z)
    np.testing.assert_allclose(mean, [[10, 20, 0.5, 100, 0, 0, 0, 0]])
    # std = 2 * h / 20 = 10 (position), 10 * h / 160 = 6.25 (velocity)
    np.testing.assert_allclose(np.diag(cov[0]), [100, 100, 1e-4, 100, 39.0625, 39.0625, 1e-10, 39.0625])
    assert np.count_nonzero(cov[0] - np.diag(np.diag(cov[0]))) == 0


@pytest.mark.parametrize(
    ("dt", "pos_var", "cross", "vel_var"),
    [
        (1.0, 100 + 39.0625 + 25, 39.0625, 39.0625 + 0.390625),  # P + F-coupling + Q(h/20)^2
        (2.0, 100 + 4 * 39.0625 + 2 * 25, 2 * 39.0625, 39.0625 + 2 * 0.390625),  # noise scales with dt
    ],
)
def test_predict_covariance(dt, pos_var, cross, vel_var):
    kf = KalmanFilter()
    mean, cov = kf.initiate(Z)
    mean[0, 4] = 3.0  # vx: px per nominal frame
    new_mean, new_cov = kf.predict(mean, cov, dt)
    assert new_mean[0, 0] == pytest.approx(10 + 3 * dt)
    assert new_cov[0, 0, 0] == pytest.approx(pos_var)
    assert new_cov[0, 0, 4] == pytest.approx(cross)
    assert new_cov[0, 4, 4] == pytest.approx(vel_var)


def test_update_gain_by_hand():
    kf = KalmanFilter()
    mean, cov = kf.initiate(Z)
    z = np.array([[12.0, 20.0, 0.5, 100.0]])
    # Without prediction: S = 100 + 5^2, K = 0.8, no position-velocity correlation yet.
    m, c = kf.update(mean, cov, z)
    assert m[0, 0] == pytest.approx(11.6)
    assert m[0, 4] == pytest.approx(0.0)
    assert c[0, 0, 0] == pytest.approx(20.0)
    # After one step: S = 164.0625 + 25, K_x = 164.0625 / 189.0625, K_vx = 39.0625 / 189.0625.
    m, c = kf.update(*kf.predict(mean, cov, 1.0), z)
    assert m[0, 0] == pytest.approx(10 + 2 * 164.0625 / 189.0625)
    assert m[0, 4] == pytest.approx(2 * 39.0625 / 189.0625)
    assert c[0, 0, 0] == pytest.approx(164.0625 - 164.0625**2 / 189.0625)


def test_batched_rows_are_independent():
    kf = KalmanFilter()
    z = np.array([[10.0, 20.0, 0.5, 100.0], [300.0, 50.0, 0.4, 50.0]])
    mean, cov = kf.predict(*kf.initiate(z), 1.0)
    meas = z + [[2, -1, 0.01, 3], [-4, 2, 0.0, -1]]
    batched = kf.update(mean, cov, meas)
    for i in range(2):
        single = kf.update(mean[i : i + 1], cov[i : i + 1], meas[i : i + 1])
        np.testing.assert_allclose(batched[0][i], single[0][0])
        np.testing.assert_allclose(batched[1][i], single[1][0])


def test_gating_distance_by_hand():
    kf = KalmanFilter()
    mean, cov = kf.initiate(Z)
    meas = np.array([[15.0, 20.0, 0.5, 100.0], [10.0, 20.0, 0.6, 100.0], [10.0, 20.0, 0.5, 100.0]])
    d = kf.gating_distance(mean, cov, meas)
    # S = diag(125, 125, 1e-4 + 1e-2, 125)
    np.testing.assert_allclose(d, [[25 / 125, 0.1**2 / 0.0101, 0.0]], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(kf.gating_distance(mean, cov, meas, only_position=True), [[0.2, 0, 0]], atol=1e-9)
    assert kf.gating_distance(mean[:0], cov[:0], meas).shape == (0, 3)
    assert CHI2INV95[4] == 9.4877


def _tracks_near_measurements(kf, rng, measurements: int, tracks: int, extent: tuple[float, float, float], noise: float, dt: float):
    """Random ``(x, y, aspect, height)`` measurements in a ``width x height`` image (people up to
    ``max_height`` tall) and the predicted state of tracks started near the first ``tracks`` of them."""
    width, height, max_height = extent
    z = np.column_stack([
        rng.uniform(0, width, measurements), rng.uniform(0, height, measurements),
        rng.uniform(0.3, 0.5, measurements), rng.uniform(50, max_height, measurements),
    ])
    mean, cov = kf.predict(*kf.initiate(z[:tracks] + rng.normal(0, noise, (tracks, 4)) * [1, 1, 0.01, 1]), dt)
    return z, mean, cov


def test_gating_distance_matches_deepsort_cholesky_form():
    kf = KalmanFilter()
    z, mean, cov = _tracks_near_measurements(kf, np.random.default_rng(1), 30, 12, (1920, 1080, 400), noise=5, dt=2.0)
    fast = kf.gating_distance(mean, cov, z)
    proj_mean, proj_cov = kf.project(mean, cov)
    for n in range(len(mean)):  # DeepSORT: squared norm of L^-1 (z - mu)
        factor = np.linalg.cholesky(proj_cov[n])
        whitened = np.linalg.solve(factor, (z - proj_mean[n]).T)
        np.testing.assert_allclose(fast[n], np.sum(whitened**2, axis=0), rtol=1e-8, atol=1e-8)


def test_gate_candidates_never_drop_a_pair_inside_the_gate():
    kf = KalmanFilter()
    z, mean, cov = _tracks_near_measurements(kf, np.random.default_rng(2), 300, 80, (800, 600, 300), noise=8, dt=3.0)
    full = kf.gating_distance(mean, cov, z) <= CHI2INV95[4]
    rows, cols = gate_candidates(*kf.project(mean, cov), z, CHI2INV95[4])
    candidates = np.zeros_like(full)
    candidates[rows, cols] = True
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) == len(rows)  # no pair twice
    assert np.all(candidates[full])  # every gated-in pair is a candidate
    assert candidates.sum() < 0.2 * candidates.size  # and the pruning is substantial


def test_update_with_a_precomputed_projection_is_the_same():
    kf = KalmanFilter()
    z = np.array([[10.0, 20.0, 0.5, 100.0], [300.0, 50.0, 0.4, 50.0], [40.0, 60.0, 0.3, 80.0]])
    mean, cov = kf.predict(*kf.initiate(z), 2.0)
    meas = z[[2, 0]] + 3.0
    rows = np.array([2, 0])  # a subset, out of order, as the tracker's matches are
    alone = kf.update(mean[rows], cov[rows], meas)
    shared = kf.update(mean[rows], cov[rows], meas, kf.projection(mean, cov).take(rows))
    for a, b in zip(alone, shared, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_dense_gating_distance_takes_the_inverse():
    kf = KalmanFilter()
    mean, cov = kf.predict(*kf.initiate(Z), 1.0)
    projection = kf.projection(mean, cov)
    meas = np.array([[12.0, 18.0, 0.5, 104.0], [60.0, 20.0, 0.5, 100.0]])
    dense = dense_gating_distance(projection.mean, projection.inverse, meas)
    np.testing.assert_allclose(dense, kf.gating_distance(mean, cov, meas))
    assert dense_gating_distance(projection.mean[:0], projection.inverse[:0], meas).shape == (0, 2)
