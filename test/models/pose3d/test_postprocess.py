import numpy as np
import pytest

from crowd_perception.models.pose3d.postprocess import PostprocessConfig, postprocess
from crowd_perception.models.pose3d.targets import encode_boxes, encode_pose2d

K = 22


def test_threshold_nms_and_readout():
    anchors = np.array([[0, 0, 10, 20], [1, 0, 11, 20], [50, 50, 60, 70], [80, 0, 90, 20]], dtype=np.float32)
    boxes = np.array([[0, 0, 10, 20], [1, 1, 11, 21], [50, 50, 62, 70], [80, 0, 90, 20]], dtype=np.float32)
    logits = np.array([3.0, 2.0, 1.0, -3.0])  # the last is below the threshold, the second a duplicate
    kp = np.random.default_rng(0).uniform(0, 60, (4, K, 2))
    poses = np.random.default_rng(1).normal(size=(4, K, 3)).astype(np.float32)
    out = postprocess(logits, encode_boxes(boxes, anchors), encode_pose2d(kp, anchors), poses, anchors,
                      PostprocessConfig(score_threshold=0.5, nms_iou=0.5))
    assert len(out) == 2
    np.testing.assert_allclose(out.boxes, boxes[[0, 2]], atol=1e-4)
    np.testing.assert_allclose(out.scores, 1 / (1 + np.exp(-logits[[0, 2]])), rtol=1e-6)
    np.testing.assert_allclose(out.keypoints, kp[[0, 2]], atol=1e-3)
    np.testing.assert_array_equal(out.poses, poses[[0, 2]])


def test_empty_and_mismatched_inputs():
    anchors = np.zeros((3, 4), np.float32) + [0, 0, 1, 1]
    out = postprocess(np.full(3, -9.0), np.zeros((3, 4)), np.zeros((3, K, 2)), np.zeros((3, K, 3)), anchors)
    assert len(out) == 0 and out.keypoints.shape == (0, K, 2)
    with pytest.raises(ValueError, match="number of anchors"):
        postprocess(np.zeros(2), np.zeros((3, 4)), np.zeros((3, K, 2)), np.zeros((3, K, 3)), anchors)
    with pytest.raises(ValueError, match="score_threshold"):
        PostprocessConfig(score_threshold=1.5)


def test_score_threshold_zero_keeps_every_finite_candidate():
    anchors = np.zeros((3, 4), np.float32) + [0, 0, 1, 1]
    config = PostprocessConfig(score_threshold=0.0, nms_iou=1.0)  # "keep everything": a legitimate evaluation setting
    out = postprocess(np.array([-30.0, np.nan, 2.0]), np.zeros((3, 4)), np.zeros((3, K, 2)), np.zeros((3, K, 3)),
                      anchors + np.arange(3)[:, None] * 5, config)
    assert len(out) == 2 and np.isfinite(out.scores).all()
    for bad in (float("nan"), -0.1, 1.0):
        with pytest.raises(ValueError, match="score_threshold"):
            PostprocessConfig(score_threshold=bad)
