"""Synthetic-looking ground truth for the format round-trips (built here, independent of the synth engine)."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations
from crowd_perception.core.camera import PinholeCamera
from crowd_perception.core.skeletons import BODY22
from crowd_perception.core.types import JointState

WIDTH, HEIGHT = 160, 120
_STATES = np.array(
    [JointState.VISIBLE, JointState.VISIBLE, JointState.OCCLUDED_BY_PERSON, JointState.OCCLUDED_BY_OBJECT,
     JointState.SELF_OCCLUDED],
    dtype=np.uint8,
)


def make_frame(seed: int, frame_index: int = 0, sequence: str = "seq_a", hidden_person: bool = True) -> FrameAnnotation:
    """A frame with 4 body22 people (one fully hidden when ``hidden_person``), masks and an ignore region.

    Joints are a jittered stick figure placed 4-9 m in front of the camera and projected, so 2D and
    3D agree; one person stands at the image border (joints outside the image); the instance map
    paints each person's box from back to front, so visible boxes and fractions follow the masks.
    """
    rng = np.random.default_rng(seed)
    camera = PinholeCamera.from_fov(WIDTH, HEIGHT, 70.0)
    template = np.array(
        [[0, 0, 0], [0, -0.2, 0], [0, -0.45, 0], [0, -0.6, 0], [0, -0.85, 0], [0, -0.72, -0.1],
         [-0.04, -0.75, -0.08], [0.04, -0.75, -0.08], [-0.08, -0.74, 0], [0.08, -0.74, 0],
         [-0.2, -0.55, 0], [0.2, -0.55, 0], [-0.25, -0.25, 0], [0.25, -0.25, 0], [-0.27, 0.0, 0], [0.27, 0.0, 0],
         [-0.1, 0.0, 0], [0.1, 0.0, 0], [-0.12, 0.45, 0], [0.12, 0.45, 0], [-0.12, 0.85, 0], [0.12, 0.85, 0]]
    )
    assert len(template) == BODY22.num_joints
    roots = np.array([[-1.5, 0.3, 9.0], [0.4, 0.4, 7.0], [3.6, 0.5, 5.0], [0.5, 0.4, 8.0]])
    roots[:, 0] += rng.uniform(-0.2, 0.2, len(roots))
    joints_3d = roots[:, None] + template[None] + rng.normal(0, 0.02, (len(roots), len(template), 3))
    keypoints = camera.project(joints_3d)
    states = rng.choice(_STATES, size=keypoints.shape[:2])
    states[~camera.in_image(keypoints)] = JointState.OUTSIDE_IMAGE
    boxes = np.concatenate([keypoints.min(1) - 3, keypoints.max(1) + 3], 1)

    instance_map = np.zeros((HEIGHT, WIDTH), dtype=np.int32)
    order = np.argsort(-roots[:, 2])  # far to near
    for i in order:
        if hidden_person and i == 3:
            continue  # person 3 is completely hidden (behind the others / an occluder)
        x1, y1, x2, y2 = np.clip(np.round(boxes[i]), 0, [WIDTH, HEIGHT, WIDTH, HEIGHT]).astype(int)
        instance_map[y1:y2, x1:x2] = i + 1
    visible_boxes = np.full((len(roots), 4), np.nan)
    fractions = np.zeros(len(roots))
    for i in range(len(roots)):
        ys, xs = np.nonzero(instance_map == i + 1)
        if len(xs):
            visible_boxes[i] = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
            fractions[i] = min(len(xs) / np.prod(boxes[i, 2:] - boxes[i, :2]), 1.0)
    persons = PersonAnnotations(
        "body22",
        boxes,
        visible_boxes=visible_boxes,
        ids=np.array([11, 12, 13, 14]) + seed,
        keypoints=keypoints,
        keypoint_states=states,
        joints_3d=joints_3d,
        distances=np.linalg.norm(roots, axis=1),
        visible_fractions=fractions,
    )
    return FrameAnnotation(
        image_id=f"{sequence}_{frame_index:06d}",
        width=WIDTH,
        height=HEIGHT,
        persons=persons,
        ignore_regions=np.array([[120.0, 5.0, 150.0, 30.0]]),
        instance_map=instance_map,
        camera=camera,
        stamp_ns=frame_index * 100_000_000,
        sequence=sequence,
        frame_index=frame_index,
        domain="a",
    )


def make_image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)


@pytest.fixture
def frames() -> list[tuple[FrameAnnotation, np.ndarray]]:
    """Two consecutive frames of one sequence with their (noise) images."""
    return [(make_frame(seed, frame_index=seed), make_image(seed)) for seed in (0, 1)]
