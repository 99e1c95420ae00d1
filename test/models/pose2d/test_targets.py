import numpy as np
import pytest

from crowd_perception.core.types import JointState
from crowd_perception.models.pose2d.targets import (
    gaussian_heatmaps,
    joint_weights,
    limb_maps,
    mask_target,
    occlusion_labels,
    relation_target,
)


def test_target_and_multi_heatmaps():
    target = np.array([[[5.0, 6.0], [np.nan, np.nan]]])
    other = np.array([[[15.0, 20.0], [3.0, 4.0]]])
    h_t = gaussian_heatmaps(target, (32, 24), sigma=2.0)
    h_m = gaussian_heatmaps(np.concatenate([target, other]), (32, 24), sigma=2.0)
    assert h_t.shape == (2, 32, 24)
    assert h_t[0, 6, 5] == pytest.approx(1.0) and h_t[1].max() == 0.0  # unlabelled joint -> empty map
    assert h_m[0, 6, 5] == pytest.approx(1.0) and h_m[0, 20, 15] == pytest.approx(1.0)  # both people's joint 0
    assert h_m[1, 4, 3] == pytest.approx(1.0)
    assert h_t[0, 6, 7] == pytest.approx(np.exp(-4 / 8))  # 2 px away, sigma 2
    np.testing.assert_array_equal(h_m >= h_t, True)


def test_subpixel_peak_and_weights():
    h = gaussian_heatmaps(np.array([[[5.5, 6.0]]]), (32, 24), sigma=2.0)[0]
    assert h[6, 5] == pytest.approx(h[6, 6])  # symmetric around 5.5
    w = joint_weights(np.array([[1.0, 1.0], [-20.0, 5.0], [np.nan, 1.0], [25.0, 33.0]]), (32, 24), sigma=2.0)
    np.testing.assert_array_equal(w, [1, 0, 0, 1])


def test_limb_map_follows_segment():
    points = np.array([[2.0, 2.0], [2.0, 20.0], [np.nan, np.nan]])
    maps, weights = limb_maps(points, ((0, 1), (1, 2)), (32, 24), sigma=1.5)
    np.testing.assert_array_equal(weights, [1, 0])
    assert maps[0, 10, 2] == pytest.approx(1.0) and maps[0, 10, 4] == pytest.approx(np.exp(-4 / 4.5))
    assert maps[0, 25, 2] == pytest.approx(np.exp(-25 / 4.5))  # beyond the end: distance to the end point
    assert maps[1].max() == 0.0


def test_relation_target_is_outer_product_of_target_joint_map():
    h_t = np.zeros((2, 4, 4), np.float32)
    h_t[0, 0, 0] = 1.0
    h_t[1, 3, 3] = 0.5
    a = relation_target(h_t, pool=2)
    assert a.shape == (4, 4)
    t = np.array([1.0, 0.0, 0.0, 0.5])
    np.testing.assert_allclose(a, np.outer(t, t))
    with pytest.raises(ValueError):
        relation_target(np.zeros((1, 5, 4)), pool=2)


def test_mask_and_occlusion_labels():
    crop_mask = np.zeros((128, 96), bool)
    crop_mask[:64] = True
    m = mask_target(crop_mask, (32, 24))
    assert m.shape == (32, 24) and m[:16].min() == 1.0 and m[16:].max() == 0.0
    labels, weights = occlusion_labels(
        np.array([JointState.VISIBLE, JointState.OCCLUDED_BY_PERSON, JointState.UNKNOWN, JointState.OUTSIDE_IMAGE])
    )
    np.testing.assert_array_equal(labels, [0, 1, 0, 0])
    np.testing.assert_array_equal(weights, [1, 1, 0, 0])
