"""Camera-motion compensation of Kalman states by a homography."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.tracking.camera_motion import validate_homography, warp_states
from crowd_perception.tracking.kalman import KalmanFilter


def _states():
    mean, cov = KalmanFilter().initiate(np.array([[100.0, 200.0, 0.4, 80.0], [500.0, 50.0, 0.5, 120.0]]))
    mean[:, 4:6] = [[3.0, -1.0], [0.0, 2.0]]
    return mean, cov


def test_translation_moves_centres_only():
    mean, cov = _states()
    new_mean, new_cov = warp_states(mean, cov, np.array([[1, 0, -30.0], [0, 1, 5.0], [0, 0, 1]]))
    np.testing.assert_allclose(new_mean[:, :2], mean[:, :2] + [-30, 5])
    np.testing.assert_allclose(new_mean[:, 2:], mean[:, 2:])
    np.testing.assert_allclose(new_cov, cov)


def test_zoom_scales_position_velocity_height_and_covariance():
    mean, cov = _states()
    new_mean, new_cov = warp_states(mean, cov, np.diag([2.0, 2.0, 1.0]))
    np.testing.assert_allclose(new_mean[:, [0, 1, 3, 4, 5, 7]], 2 * mean[:, [0, 1, 3, 4, 5, 7]])
    np.testing.assert_allclose(new_mean[:, [2, 6]], mean[:, [2, 6]])  # aspect unchanged
    np.testing.assert_allclose(new_cov[:, 0, 0], 4 * cov[:, 0, 0])
    np.testing.assert_allclose(new_cov[:, 2, 2], cov[:, 2, 2])


def test_projective_centre_is_exact():
    mean, cov = _states()
    h = np.array([[1.01, 0.02, 3.0], [-0.01, 0.99, -2.0], [1e-5, -2e-5, 1.0]])
    new_mean, _ = warp_states(mean, cov, 2 * h)  # scale of H does not matter
    xy1 = np.c_[mean[:, :2], np.ones(2)] @ h.T
    np.testing.assert_allclose(new_mean[:, :2], xy1[:, :2] / xy1[:, 2:])


def test_bad_homographies_are_rejected():
    with pytest.raises(ValueError, match="3x3"):
        validate_homography(np.eye(2))
    with pytest.raises(ValueError, match="singular"):
        validate_homography(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="finite"):
        validate_homography(np.full((3, 3), np.nan))
