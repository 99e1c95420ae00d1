import numpy as np
import pytest

from crowd_perception.core.camera import PinholeCamera
from crowd_perception.core.skeletons import BODY22
from crowd_perception.models.pose3d.normalise import normalise_pose
from crowd_perception.models.pose3d.placement import BodySizePrior, default_camera, place_poses


def _people(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, BODY22.num_joints, 3)) * 0.25
    roots = np.stack([rng.uniform(-5, 5, n), rng.uniform(-1, 2, n), rng.uniform(4, 45, n)], -1)
    return base - base[:, :1] + roots[:, None]


def test_recovers_known_translation_from_noiseless_projection():
    camera = PinholeCamera(1000.0, 990.0, 960.0, 540.0, 1920, 1080)
    joints = _people(6)
    normalised, scale = normalise_pose(joints)
    placed = np.concatenate(
        [place_poses(camera.project(joints[i : i + 1]), normalised[i : i + 1], camera, scale[i]) for i in range(6)]
    )
    np.testing.assert_allclose(placed, joints, atol=1e-6)


def test_wrong_size_prior_scales_depth_by_the_same_factor():
    camera = PinholeCamera.from_fov(640, 480, 70)
    joints = _people(3, seed=1)
    normalised, scale = normalise_pose(joints)
    placed = place_poses(camera.project(joints), normalised, camera, scale_m=float(scale[0]) * 1.1)
    np.testing.assert_allclose(placed[0, 0], joints[0, 0] * 1.1, rtol=1e-6)


def test_missing_joints_are_skipped_and_too_few_give_nan():
    camera = PinholeCamera.from_fov(640, 480, 70)
    joints = _people(2, seed=2)
    normalised, scale = normalise_pose(joints)
    keypoints = camera.project(joints)
    keypoints[0, 5:] = np.nan
    keypoints[1, 1:] = np.nan  # one joint left: depth is unobservable
    placed = place_poses(keypoints, normalised, camera, float(scale[0]))
    np.testing.assert_allclose(placed[0], joints[0], atol=1e-6)
    assert np.all(np.isnan(placed[1]))


def test_body_size_prior_from_poses_and_validation():
    joints = _people(10, seed=3)
    prior = BodySizePrior.from_poses(joints)
    _, scale = normalise_pose(joints)
    assert prior.mean_m == pytest.approx(scale.mean()) and prior.std_m == pytest.approx(scale.std())
    assert prior.relative_std == pytest.approx(scale.std() / scale.mean())
    with pytest.raises(ValueError, match="invalid body-size prior"):
        BodySizePrior(0.0, 0.1)


def test_default_camera_is_centred():
    camera = default_camera(640, 360)
    assert (camera.cx, camera.cy) == (320, 180) and camera.fx == camera.fy
