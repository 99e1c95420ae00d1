"""Body model: proportions, feet on the ground, left/right, part coverage of every joint."""

from __future__ import annotations

import numpy as np

from crowd_perception.core.skeletons import BODY22
from crowd_perception.synth.body import (
    JOINT_PARTS,
    OPTIONAL_PARTS,
    PART_SPHERES,
    PARTS,
    Gait,
    body_spheres,
    part_enabled,
    pose_joints,
    sample_shapes,
)

J = {name: i for i, name in enumerate(BODY22.joints)}


def _poses(gait: Gait, n: int = 16):
    shapes = sample_shapes(np.random.default_rng(0), n)
    phase = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return shapes, pose_joints(shapes, np.full(n, gait), phase)


def test_standing_proportions():
    shapes, joints = _poses(Gait.STAND)
    h = shapes.height
    top = joints[:, J["head_top"], 1]
    assert np.all((top > 0.9 * h) & (top < h))
    assert np.all(joints[:, J["neck"], 1] > joints[:, J["pelvis"], 1])
    assert np.all(joints[:, J["left_knee"], 1] < joints[:, J["left_hip"], 1])
    assert np.all(joints[:, J["nose"], 2] > joints[:, J["left_ear"], 2])  # the face points forward (+z)


def test_feet_touch_the_ground_when_walking_or_standing():
    for gait in (Gait.STAND, Gait.WALK):
        shapes, joints = _poses(gait)
        lowest = np.minimum(joints[:, J["left_ankle"], 1], joints[:, J["right_ankle"], 1])
        np.testing.assert_allclose(lowest, 0.039 * shapes.height, atol=1e-6)


def test_running_strides_are_longer_than_walking():
    _, walk = _poses(Gait.WALK)
    _, run = _poses(Gait.RUN)
    spread = lambda j: np.abs(j[:, J["left_ankle"], 2] - j[:, J["right_ankle"], 2]).max()  # noqa: E731
    assert spread(run) > spread(walk) > 0.2


def test_left_is_left():
    # Body frame: x to the person's right. Left joints sit at negative x.
    _, joints = _poses(Gait.STAND)
    for name in ("shoulder", "hip", "ear", "eye"):
        assert np.all(joints[:, J[f"left_{name}"], 0] < joints[:, J[f"right_{name}"], 0])


def _inside_part(point: np.ndarray, spheres: np.ndarray) -> np.ndarray:
    """Whether ``point`` (N, 3) lies in the union of capsules between every pair of ``spheres`` (N, M, 4)."""
    inside = np.zeros(len(point), bool)
    m = spheres.shape[1]
    for a in range(m):
        for b in range(m):
            pa, pb, ra, rb = spheres[:, a, :3], spheres[:, b, :3], spheres[:, a, 3], spheres[:, b, 3]
            ab = pb - pa
            t = np.clip(np.einsum("nk,nk->n", point - pa, ab) / np.maximum(np.einsum("nk,nk->n", ab, ab), 1e-12), 0, 1)
            gap = np.linalg.norm(point - (pa + t[:, None] * ab), axis=-1) - (ra + t * (rb - ra))
            inside |= gap <= 1e-9
    return inside


def test_every_joint_lies_inside_a_part_that_contains_it():
    shapes, joints = _poses(Gait.WALK)
    for flag in OPTIONAL_PARTS.values():
        getattr(shapes, flag)[:] = True
    spheres = body_spheres(joints, shapes)
    assert part_enabled(shapes).all() and JOINT_PARTS.shape[1] == len(PARTS)
    for j in range(BODY22.num_joints):
        parts = np.flatnonzero(JOINT_PARTS[j])
        assert len(parts), BODY22.joints[j]
        inside = np.zeros(len(joints), bool)
        for p in parts:
            inside |= _inside_part(joints[:, j], spheres[:, list(PART_SPHERES[p])])
        assert inside.all(), BODY22.joints[j]
