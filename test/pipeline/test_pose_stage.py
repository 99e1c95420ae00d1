"""The pose stage poses the detections at its operating point, at most ``max_people`` of them, nearest first."""

from __future__ import annotations

import numpy as np

from crowd_perception.core.types import Detections, JointState, Poses2D
from crowd_perception.pipeline import stages


class _BoxEcho:
    """A pose runner that returns one (box-corner) pose per box it is given and records the boxes."""

    skeleton = "coco17"
    occlusion_threshold = 0.5

    def __init__(self) -> None:
        self.calls: list[np.ndarray] = []

    def estimate(self, image: np.ndarray, boxes: np.ndarray) -> Poses2D:
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        self.calls.append(boxes)
        keypoints = np.repeat(boxes[:, None, :2], 17, axis=1)
        return Poses2D("coco17", keypoints, np.ones((len(boxes), 17), np.float32),
                       np.full((len(boxes), 17), JointState.VISIBLE, np.uint8), boxes, np.ones(len(boxes), np.float32))


def _detections(heights: list[float], scores: list[float]) -> Detections:
    boxes = [[10.0 * i, 0.0, 10.0 * i + 5.0, h] for i, h in enumerate(heights)]
    return Detections(np.asarray(boxes, np.float32), np.asarray(scores, np.float32))


def test_max_people_keeps_the_tallest_boxes_in_detection_order_and_counts_the_rest():
    runner = _BoxEcho()
    stage = stages.Pose2DStage(stages.Pose2DNodeConfig(min_box_score=0.5, max_people=2), runner)
    detections = _detections([40, 90, 20, 70, 100], [0.9, 0.9, 0.9, 0.3, 0.9])  # the 70 px box is below the score
    poses = stage.process(np.zeros((120, 60, 3), np.uint8), detections)
    np.testing.assert_array_equal(poses.boxes[:, 3], [90, 100])  # the two tallest posed, in detection order
    np.testing.assert_allclose(poses.person_scores, [0.9, 0.9])
    assert stage.unposed == 2  # the 40 and 20 px people: above the score, beyond the limit
    stage.process(np.zeros((120, 60, 3), np.uint8), detections)
    assert stage.unposed == 4


def test_max_people_zero_poses_everyone_at_the_operating_point():
    runner = _BoxEcho()
    stage = stages.Pose2DStage(stages.Pose2DNodeConfig(min_box_score=0.5, max_people=0), runner)
    poses = stage.process(np.zeros((120, 60, 3), np.uint8), _detections([40, 90, 20, 70], [0.9, 0.9, 0.9, 0.3]))
    np.testing.assert_array_equal(poses.boxes[:, 3], [40, 90, 20])
    assert stage.unposed == 0
