"""The node-facing runner: one pose per input box, in order; ONNX export agrees with PyTorch."""

import numpy as np
import pytest

from crowd_perception.models.pose2d.runner import OccludedPoseEstimator

from .conftest import make_frame


def test_one_pose_per_box_in_order(tiny_model):
    weights, onnx_path = tiny_model
    image, frame = make_frame(0)
    boxes = frame.persons.boxes[[2, 0, 1]]
    est = OccludedPoseEstimator(onnx_path, "onnxruntime")
    poses = est.estimate(image, boxes)
    assert len(poses) == 3 and poses.skeleton == "coco17"
    np.testing.assert_allclose(poses.boxes, boxes)
    # Order is kept: estimating the boxes one by one gives the same rows.
    for i, box in enumerate(boxes):
        np.testing.assert_allclose(est.estimate(image, box[None]).keypoints[0], poses.keypoints[i], atol=1e-3)
    torch_poses = OccludedPoseEstimator(weights, "torch").estimate(image, boxes)
    np.testing.assert_allclose(torch_poses.keypoints, poses.keypoints, atol=1e-2)
    np.testing.assert_array_equal(torch_poses.states, poses.states)


def test_batches_larger_than_max_batch_and_flip_test(tiny_model):
    _, onnx_path = tiny_model
    image, frame = make_frame(1)
    boxes = np.repeat(frame.persons.boxes, 4, axis=0)  # 12 boxes, split into calls of 5
    est = OccludedPoseEstimator(onnx_path, max_batch=5, flip_test=True)
    poses = est.estimate(image, boxes)
    assert len(poses) == 12
    np.testing.assert_allclose(poses.keypoints[0], poses.keypoints[3], atol=1e-4)  # same box -> same pose


def test_empty_and_bad_input(tiny_model):
    _, onnx_path = tiny_model
    est = OccludedPoseEstimator(onnx_path)
    image, _ = make_frame(0)
    assert len(est.estimate(image, np.zeros((0, 4)))) == 0
    with pytest.raises(ValueError, match="BGR"):
        est.estimate(image[..., 0], np.zeros((1, 4)))
    with pytest.raises(ValueError, match="NaN"):
        est.estimate(image, np.array([[0, 0, np.nan, 10]]))
    with pytest.raises(FileNotFoundError):
        OccludedPoseEstimator(onnx_path.parent / "missing.onnx")
