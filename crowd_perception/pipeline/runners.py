"""The runner contract: what each model stage calls on its runner, and nothing more.

The shipped runners (``PedestrianDetector``, ``OccludedPoseEstimator``, ``Pose3DEstimator`` in
``models/*/runner.py``) satisfy these protocols structurally, and so do the small fakes of the
tests; a stage never needs to know which backend or model family sits behind its runner.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..core.camera import PinholeCamera
from ..core.types import Detections, Poses2D, Poses3D

__all__ = ["Detector", "PoseEstimator", "Pose3DEstimator"]


@runtime_checkable
class Detector(Protocol):
    """People in one image."""

    def detect(self, image_bgr: np.ndarray) -> Detections:
        """Full-body xyxy boxes in the image's pixels, scores, embeddings; at or above the model's floor."""
        ...


@runtime_checkable
class PoseEstimator(Protocol):
    """A 2D pose per given box (top-down); joints above ``occlusion_threshold`` are reported occluded."""

    occlusion_threshold: float

    def estimate(self, image_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> Poses2D:
        """One pose row per box, in the boxes' order."""
        ...


@runtime_checkable
class Pose3DEstimator(Protocol):
    """3D poses of everyone in one image (single shot), placed with ``camera`` when it is given."""

    def estimate(self, image_bgr: np.ndarray, camera: PinholeCamera | None = None) -> Poses3D:
        """Root-relative joints, and camera-frame joints placed with the intrinsics of this image size."""
        ...
