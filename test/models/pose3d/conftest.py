"""Tiny PandaNet configs and hand-made frames for the pose3d tests (no synthetic engine needed)."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations
from crowd_perception.core.camera import PinholeCamera
from crowd_perception.core.skeletons import BODY22


def make_frame(n_people: int = 3, width: int = 128, height: int = 96, seed: int = 0) -> tuple[np.ndarray, FrameAnnotation]:
    """A grey image with ``n_people`` stick figures whose 2D joints are projections of their 3D joints."""
    rng = np.random.default_rng(seed)
    camera = PinholeCamera.from_fov(width, height, 60)
    joints = rng.normal(size=(n_people, BODY22.num_joints, 3)) * 0.15
    joints[:, :, 1] += np.linspace(-0.9, 0.9, BODY22.num_joints)  # tall along y
    joints -= joints[:, :1]
    joints += np.stack([rng.uniform(-1.5, 1.5, n_people), np.full(n_people, 0.2), rng.uniform(5, 9, n_people)], -1)[:, None]
    keypoints = camera.project(joints)
    boxes = np.concatenate([keypoints.min(1), keypoints.max(1)], -1)
    image = np.full((height, width, 3), 90, np.uint8)
    persons = PersonAnnotations(
        "body22", boxes, keypoints=keypoints, joints_3d=joints, distances=np.linalg.norm(joints[:, 0], axis=-1),
        visible_fractions=np.ones(n_people),
    )
    return image, FrameAnnotation(f"toy{seed}", width, height, persons, camera=camera)


@pytest.fixture
def tiny_config():
    from crowd_perception.models.pose3d.model import ModelConfig

    return ModelConfig(
        input_height=64, input_width=96, backbone_width=0.25, fpn_channels=8, level_channels=8, head_channels=8,
        head_depth=1, anchors=((6.0, 14.0), (12.0, 30.0), (24.0, 56.0)), body_size_mean_m=4.0, body_size_std_m=0.2,
    )
