import numpy as np

from crowd_perception.core.types import JointState
from crowd_perception.models.pose2d.crops import (
    boxes_to_center_size,
    compose_transforms,
    crop_transforms,
    heatmap_transforms,
    transform_points,
)
from crowd_perception.models.pose2d.postprocess import merge_flipped, postprocess
from crowd_perception.models.pose2d.targets import gaussian_heatmaps


def test_heatmaps_decode_to_image_keypoints():
    rng = np.random.default_rng(0)
    boxes = np.array([[50.0, 40.0, 110.0, 200.0], [300.0, 10.0, 340.0, 90.0]])
    centers, sizes = boxes_to_center_size(boxes, 0.75)
    m = crop_transforms(centers, sizes, (128, 96))
    to_heat = compose_transforms(heatmap_transforms(4.0)[None], m)
    # Ground truth image keypoints whose heatmap locations are away from the border.
    heat = rng.uniform([5, 5], [18, 26], size=(2, 17, 2))
    image_pts = transform_points(heat, np.linalg.inv(np.concatenate([to_heat, [[[0, 0, 1]]] * 2], 1))[:, :2])
    maps = np.stack([gaussian_heatmaps(p[None], (32, 24), 2.0) for p in heat])
    logits = np.where(np.arange(17) % 2 == 0, 3.0, -3.0)[None].repeat(2, 0)
    poses = postprocess(maps, logits, m, boxes, "coco17", stride=4.0)
    np.testing.assert_allclose(poses.keypoints, image_pts, atol=1e-2)
    assert poses.states[0, 0] == JointState.OCCLUDED and poses.states[0, 1] == JointState.VISIBLE
    np.testing.assert_allclose(poses.boxes, boxes)
    assert (poses.scores > 0.9).all() and poses.person_scores.shape == (2,)


def test_merge_flipped_swaps_channels_and_mirrors():
    maps = np.zeros((1, 17, 4, 6), np.float32)
    flipped = np.zeros_like(maps)
    flipped[0, 2, 1, 0] = 1.0  # right eye seen at x=0 in the mirrored crop = left eye at x=5
    merged = merge_flipped(maps, flipped, "coco17")
    assert merged[0, 1, 1, 5] == 0.5 and merged.sum() == 0.5


def test_empty_input():
    poses = postprocess(np.zeros((0, 17, 32, 24)), np.zeros((0, 17)), np.zeros((0, 2, 3)), np.zeros((0, 4)), "coco17", 4.0)
    assert len(poses) == 0
