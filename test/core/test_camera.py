import numpy as np
import pytest

from crowd_perception.core.camera import InvalidIntrinsicsError, PinholeCamera


def test_project_back_project_round_trip():
    cam = PinholeCamera.from_fov(960, 540, 70.0)
    rng = np.random.default_rng(0)
    pixels = rng.uniform([0, 0], [960, 540], (100, 2))
    depth = rng.uniform(1, 80, 100)
    assert np.allclose(cam.project(cam.back_project(pixels, depth)), pixels)


def test_project_golden_value_and_behind_camera_is_nan():
    cam = PinholeCamera(500.0, 400.0, 320.0, 240.0, 640, 480)
    assert np.allclose(cam.project(np.array([1.0, -0.5, 10.0])), [370.0, 220.0])
    assert np.isnan(cam.project(np.array([0.0, 0.0, -1.0]))).all()


def test_camera_info_prefers_p_and_rejects_bad_intrinsics():
    k = [500, 0, 320, 0, 500, 240, 0, 0, 1]
    p = [400, 0, 300, 0, 0, 400, 200, 0, 0, 0, 1, 0]
    assert PinholeCamera.from_camera_info(k, 640, 480, p).fx == 400
    assert PinholeCamera.from_camera_info(k, 640, 480, [0.0] * 12).fx == 500
    with pytest.raises(InvalidIntrinsicsError, match="non-finite"):
        PinholeCamera.from_camera_info([np.nan, 0, 320, 0, 500, 240, 0, 0, 1], 640, 480)
    with pytest.raises(InvalidIntrinsicsError, match="uncalibrated"):
        PinholeCamera.from_camera_info([0.0] * 9, 640, 480)
    with pytest.raises(InvalidIntrinsicsError, match="positive"):
        PinholeCamera(-1.0, 1.0, 0.0, 0.0, 10, 10)


def test_scaled_camera_projects_scaled_pixels():
    cam = PinholeCamera.from_fov(960, 540, 70.0)
    p = np.array([0.3, 0.2, 7.0])
    assert np.allclose(cam.scaled(0.5).project(p), cam.project(p) * 0.5)


def test_implausible_focal_length_in_camera_info_is_refused():
    from crowd_perception.core.camera import InvalidIntrinsicsError

    k = [1e12, 0, 320, 0, 1e12, 240, 0, 0, 1]
    with pytest.raises(InvalidIntrinsicsError, match="implausible focal length"):
        PinholeCamera.from_camera_info(k, 640, 480)
    assert PinholeCamera.from_camera_info([5000, 0, 320, 0, 5000, 240, 0, 0, 1], 640, 480).fx == 5000  # a long lens
