"""Small fake runners for node tests (the real ones need trained models): deterministic outputs
derived from the input, so tests can check that each output belongs to its input."""

from __future__ import annotations

import numpy as np

from crowd_perception.core.skeletons import get_skeleton
from crowd_perception.core.types import Detections, Poses2D, Poses3D


class FakeDetector:
    """Two people whose boxes encode the image's mean brightness; embeddings of size 4."""

    name = "fake-detector"

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, image: np.ndarray) -> Detections:
        self.calls += 1
        v = float(image.mean())
        boxes = np.array([[v, 1, v + 10, 30], [v + 20, 2, v + 30, 40], [0, 0, 1, 1]], dtype=np.float32)
        embeddings = np.eye(3, 4, dtype=np.float32)
        return Detections(boxes, [0.9, 0.6, 0.05], embeddings=embeddings)


class FakePoseEstimator:
    """One pose per box: keypoints spread over the box, every other joint occluded."""

    def __init__(self, skeleton: str = "coco17") -> None:
        self.skeleton = skeleton
        self.occlusion_threshold = 0.5

    def estimate(self, image: np.ndarray, boxes: np.ndarray) -> Poses2D:
        k = get_skeleton(self.skeleton).num_joints
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        t = np.linspace(0, 1, k)
        x = boxes[:, None, 0] + t * (boxes[:, None, 2] - boxes[:, None, 0])
        y = boxes[:, None, 1] + t * (boxes[:, None, 3] - boxes[:, None, 1])
        states = np.where(np.arange(k) % 2 == 0, 1, 2)[None].repeat(len(boxes), 0)
        return Poses2D(self.skeleton, np.stack([x, y], -1), scores=np.full((len(boxes), k), 0.8), states=states,
                       boxes=boxes)


class FakePose3DEstimator:
    """One standing person per call; placed only when a camera is given."""

    def estimate(self, image: np.ndarray, camera=None) -> Poses3D:
        k = get_skeleton("body22").num_joints
        relative = np.zeros((1, k, 3), dtype=np.float32)
        relative[0, :, 1] = np.linspace(-0.9, 0.9, k)
        placed = relative + np.array([0, 0, 5.0], dtype=np.float32) if camera is not None else None
        return Poses3D("body22", relative, joints_camera=placed, scores=np.full((1, k), 0.7),
                       boxes=[[10, 5, 30, 45]], person_scores=[0.8], placed_with_intrinsics=[camera is not None])
