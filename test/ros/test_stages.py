"""The ROS-free stages the nodes and the replay share."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.core.camera import PinholeCamera
from crowd_perception.core.types import Detections, Poses2D
from crowd_perception.pipeline import stages

from .nodes_fakes import FakeDetector, FakePose3DEstimator, FakePoseEstimator


def test_detection_stage_thresholds_sorts_and_caps():
    stage = stages.DetectorStage(stages.DetectorNodeConfig(score_threshold=0.7, max_detections=5), FakeDetector())
    dets = stage.process(np.full((4, 4, 3), 7, np.uint8))
    assert dets.scores.tolist() == [pytest.approx(0.9)] and dets.boxes[0, 0] == 7
    stage.config = stages.DetectorNodeConfig(score_threshold=0.0, max_detections=2)
    capped = stage.process(np.zeros((4, 4, 3), np.uint8))
    assert capped.scores.tolist() == pytest.approx([0.9, 0.6])


def test_pose_stage_only_confident_boxes_in_order():
    stage = stages.Pose2DStage(stages.Pose2DNodeConfig(min_box_score=0.5), FakePoseEstimator())
    dets = Detections([[0, 0, 10, 20], [5, 5, 15, 25], [1, 1, 2, 2]], [0.9, 0.2, 0.7])
    poses = stage.process(np.zeros((30, 30, 3), np.uint8), dets)
    assert poses.boxes[:, 0].tolist() == [0, 1] and poses.person_scores.tolist() == pytest.approx([0.9, 0.7])


def test_camera_for_image():
    camera = PinholeCamera(100, 100, 50, 40, 100, 80)
    assert stages.camera_for_image(camera, 100, 80) == (camera, None)
    scaled, _ = stages.camera_for_image(camera, 50, 40)
    assert scaled.fx == 50 and scaled.width == 50
    none, reason = stages.camera_for_image(camera, 50, 50)
    assert none is None and "100x80" in reason
    assert stages.camera_for_image(None, 1, 1) == (None, "no CameraInfo received")


def test_pose3d_stage_filters_by_score():
    stage = stages.Pose3DStage(stages.Pose3DNodeConfig(score_threshold=0.9), FakePose3DEstimator())
    assert len(stage.process(np.zeros((8, 8, 3), np.uint8), None)) == 0


def test_tracker_stage_attaches_one_pose_per_fresh_track():
    stage = stages.TrackerStage(stages.TrackerNodeConfig(), stages.build_runner(stages.TrackerNodeConfig()))
    boxes = np.array([[0, 0, 20, 50], [100, 0, 120, 50]], dtype=np.float32)
    dets = Detections(boxes, [0.9, 0.9], embeddings=np.eye(2))
    poses = Poses2D("coco17", np.ones((2, 17, 2)), boxes=boxes[::-1] + 1)  # reversed order, slightly shifted
    poses.keypoints[0] = 7.0
    tracks = stage.process(dets, 10**9, poses_2d=poses)
    right = np.argmax(tracks.boxes[:, 0])
    assert tracks.poses_2d.keypoints[right, 0, 0] == 7.0
    assert tracks.poses_2d.keypoints[1 - right, 0, 0] == 1.0


def test_missing_models_are_clear_errors(tmp_path):
    for config, kind in ((stages.DetectorNodeConfig, "detector"), (stages.Pose2DNodeConfig, "pose2d"),
                         (stages.Pose3DNodeConfig, "pose3d")):
        with pytest.raises(FileNotFoundError, match=f"{kind} model not found"):
            stages.build_runner(config(model_path=str(tmp_path / "missing.onnx")))
    assert stages.model_path(stages.DetectorNodeConfig()).parts[-2:] == ("weights", "detector.onnx")


def test_build_runner_uses_the_model_registry_with_model_options(monkeypatch, tmp_path):
    import crowd_perception.models.registry as registry

    calls = []
    monkeypatch.setattr(registry, "runner_class", lambda name: lambda *a, **kw: calls.append((name, a, kw)))
    model = tmp_path / "m.onnx"
    model.write_bytes(b"")
    stages.build_runner(stages.DetectorNodeConfig(model_path=str(model), score_threshold=0.5, threads=2))
    stages.build_runner(stages.Pose2DNodeConfig(model_path=str(model), flip_test=True))
    (det_target, det_args, det_kw), (pose_target, _, pose_kw) = calls
    assert det_target == "detector" and det_args == (model,)
    assert det_kw == {"backend": "onnxruntime", "threads": 2}  # the model keeps its own floor; the stage its operating point
    assert pose_target == "pose2d" and pose_kw["flip_test"] is True
