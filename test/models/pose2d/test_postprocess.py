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


def test_frame_mode_geometry_round_trip_for_wide_and_tall_boxes_in_both_axes():
    """Issue 13 suspects, end to end: letterbox -> RoI (affine, grid_sample) -> training targets -> DARK decoding
    -> image keypoints. Targets rendered from known image keypoints come back exactly, in x and in y, for a
    wide and a tall box in a portrait and a landscape image (non-square heatmaps, non-square frames), and
    the RoI-aligned frame reads each heatmap cell exactly where postprocessing puts it."""
    import torch

    from crowd_perception.core.skeletons import get_skeleton
    from crowd_perception.models.pose2d.crops import letterbox_frame
    from crowd_perception.models.pose2d.data import AugmentConfig, crop_targets
    from crowd_perception.models.pose2d.roi import roi_align, roi_matrices, sample_grid

    crop, heat, frame = (128, 96), (32, 24), (384, 640)
    for image_hw, boxes in (((300, 500), [[40.0, 100.0, 440.0, 220.0], [300.0, 20.0, 360.0, 280.0]]),
                            ((700, 400), [[20.0, 300.0, 380.0, 420.0], [150.0, 50.0, 210.0, 650.0]])):
        boxes = np.array(boxes)
        centers, sizes = boxes_to_center_size(boxes, crop[1] / crop[0], 1.25)
        to_crop = crop_transforms(centers, sizes, crop)
        rng = np.random.default_rng(len(boxes))
        # joints spread over each box, asymmetric in x and y (a transpose or swapped axis would move them)
        rel = rng.uniform(0.1, 0.9, size=(2, 17, 2)) * np.array([1.0, 0.6]) + np.array([0.0, 0.3])
        keypoints = boxes[:, None, :2] + rel * (boxes[:, None, 2:] - boxes[:, None, :2])
        states = np.full((2, 17), JointState.VISIBLE)
        maps = np.stack([
            crop_targets(transform_points(keypoints[i][None], to_crop[i][None])[0], states[i], np.full((1, 17, 2), np.nan),
                         np.ones(crop, np.uint8), crop, AugmentConfig(sigma=2.0), get_skeleton("coco17"), 4)["target_heatmaps"]
            for i in range(2)
        ])
        assert maps.shape == (2, 17, *heat)
        poses = postprocess(maps, None, to_crop, boxes, "coco17", stride=4.0, sigma=2.0)
        cell = sizes[:, 0] / crop[1] * 4  # one heatmap cell in image pixels
        assert (np.abs(poses.keypoints - keypoints).max(axis=(1, 2)) < 0.05 * cell).all()
        for axis in (0, 1):  # the spread survives in both axes
            np.testing.assert_allclose(poses.keypoints[..., axis].std(1), keypoints[..., axis].std(1), rtol=0.02)
        # RoI-aligned features of the letterboxed frame: a ramp image reads back its own image coordinates
        _, to_input = letterbox_frame(np.zeros((*image_hw, 3), np.uint8), frame)
        ys, xs = np.meshgrid(np.arange(frame[0], dtype=np.float64), np.arange(frame[1], dtype=np.float64), indexing="ij")
        inverse = np.linalg.inv(np.vstack([to_input, [0, 0, 1]]))[:2]
        ramp = np.stack([inverse[0, 0] * xs + inverse[0, 2], inverse[1, 1] * ys + inverse[1, 2]])  # frame px -> image px
        rois = roi_matrices(to_crop, to_input, 4)
        sampled = roi_align(torch.from_numpy(ramp[None]), torch.from_numpy(rois[None]).double(), sample_grid(heat, 1).double(),
                            heat, frame, 1).numpy()
        u, v = np.meshgrid(np.arange(heat[1], dtype=np.float64), np.arange(heat[0], dtype=np.float64))
        cells = np.broadcast_to(np.stack([u, v], -1).reshape(1, -1, 2), (2, u.size, 2))
        to_image = compose_transforms(np.linalg.inv(np.concatenate([to_crop, [[[0, 0, 1]]] * 2], 1))[:, :2],
                                      np.linalg.inv(np.vstack([heatmap_transforms(4.0), [0, 0, 1]]))[:2][None])
        expected = transform_points(cells, to_image).reshape(2, *heat, 2)
        inside = (expected[..., 0] > 1) & (expected[..., 0] < image_hw[1] - 2) & (expected[..., 1] > 1) & (expected[..., 1] < image_hw[0] - 2)
        np.testing.assert_allclose(sampled.transpose(0, 2, 3, 1)[inside], expected[inside], atol=1e-3)
