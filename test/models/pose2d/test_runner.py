"""The node-facing runner: one pose per input box, in order; ONNX export agrees with PyTorch."""

import numpy as np
import pytest

from crowd_perception.models.pose2d.runner import OccludedPoseEstimator

from .conftest import make_frame


def test_one_pose_per_box_in_order(tiny_model_any_mode):
    weights, onnx_path = tiny_model_any_mode
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


def test_batches_larger_than_max_batch_and_flip_test(tiny_model_any_mode):
    _, onnx_path = tiny_model_any_mode
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


def test_frame_mode_encodes_the_frame_once_per_call(tiny_model):
    """The whole point of frame mode: all people of a frame share one network call."""
    _, onnx_path = tiny_model
    est = OccludedPoseEstimator(onnx_path)
    assert est.input_mode == "frame" and est.backend.input_names == ["images", "rois"]
    calls = []
    run = est.backend.run
    est.backend.run = lambda feeds: calls.append({k: v.shape for k, v in feeds.items()}) or run(feeds)
    image, frame = make_frame(0)
    est.estimate(image, np.repeat(frame.persons.boxes, 5, axis=0))
    assert calls == [{"images": (1, 3, 96, 160), "rois": (15, 2, 3)}]


def test_flip_test_mirrors_exactly(tiny_model_any_mode):
    """A mirrored image with mirrored boxes gives mirrored heatmaps (left/right swapped) under flip test."""
    from crowd_perception.core.skeletons import get_skeleton

    _, onnx_path = tiny_model_any_mode
    est = OccludedPoseEstimator(onnx_path, flip_test=True)
    image, frame = make_frame(2)
    width = image.shape[1]
    boxes = frame.persons.boxes
    mirrored = np.stack([width - 1 - boxes[:, 2], boxes[:, 1], width - 1 - boxes[:, 0], boxes[:, 3]], axis=1)
    heatmaps, occlusion, _ = est.infer(image, boxes)
    mirror_heatmaps, mirror_occlusion, _ = est.infer(np.ascontiguousarray(image[:, ::-1]), mirrored)
    perm = get_skeleton("coco17").flip_permutation()
    np.testing.assert_allclose(heatmaps, mirror_heatmaps[:, perm, :, ::-1], atol=1e-4)
    np.testing.assert_allclose(occlusion, mirror_occlusion[:, perm], atol=1e-4)
