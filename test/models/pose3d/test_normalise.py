import numpy as np
import pytest

from crowd_perception.core.skeletons import BODY22
from crowd_perception.models.pose3d.normalise import bone_length_sum, denormalise_pose, normalise_pose


def _random_pose(rng: np.random.Generator) -> np.ndarray:
    return rng.normal(size=(BODY22.num_joints, 3)) * 0.3 + np.array([1.0, 0.5, 12.0])


def test_normalised_pose_has_unit_bone_length_sum_and_root_at_origin():
    rng = np.random.default_rng(0)
    joints = np.stack([_random_pose(rng) for _ in range(5)])
    normalised, scale = normalise_pose(joints)
    np.testing.assert_allclose(bone_length_sum(normalised), 1.0, rtol=1e-12)
    np.testing.assert_allclose(normalised[:, BODY22.root], 0.0, atol=1e-12)
    np.testing.assert_allclose(scale, bone_length_sum(joints))
    restored = denormalise_pose(normalised, scale) + joints[:, BODY22.root : BODY22.root + 1]
    np.testing.assert_allclose(restored, joints, atol=1e-9)


def test_bone_length_sum_of_a_known_chain():
    joints = np.zeros((BODY22.num_joints, 3))
    joints[BODY22.index("head_top")] = [0, -0.3, 0.4]  # a leaf: only the neck-head bone has length (0.5 m)
    assert bone_length_sum(joints) == pytest.approx(0.5)
    joints[BODY22.index("left_ankle")] = [0.1, 0, 0]  # a second leaf bone of 0.1 m
    assert bone_length_sum(joints) == pytest.approx(0.6)


def test_unknown_joint_gives_nan_not_garbage():
    joints = _random_pose(np.random.default_rng(1))
    joints[3] = np.nan
    normalised, scale = normalise_pose(joints)
    assert np.isnan(scale) and np.all(np.isnan(normalised))
