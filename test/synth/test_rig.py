"""Vehicle camera: rotation, projection, pitch and ego-motion."""

from __future__ import annotations

import numpy as np

from crowd_perception.core.camera import PinholeCamera
from crowd_perception.synth.rig import EgoMotion, rotation_world_to_camera

K = PinholeCamera.from_fov(640, 360, 70.0)


def test_axes_keep_their_physical_meaning():
    # The world is labelled X right, Y up, Z ahead (left-handed, as in many graphics engines); the
    # matrix maps it onto the right-handed optical frame, so it is orthogonal with determinant -1.
    for yaw, pitch in ((0.0, 0.0), (0.2, 0.1), (-0.1, -0.05)):
        r = rotation_world_to_camera(yaw, pitch)
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
        assert np.isclose(np.linalg.det(r), -1.0)
        forward = np.array([np.sin(yaw), 0.0, np.cos(yaw)])
        right = np.array([np.cos(yaw), 0.0, -np.sin(yaw)])
        assert (r @ right)[0] > 0.99 and (r @ forward)[2] > 0.99 * np.cos(pitch) and (r @ [0, 1, 0])[1] < -0.9
    np.testing.assert_allclose(rotation_world_to_camera(0.0, 0.0) @ [0, 0, 1], [0, 0, 1])  # +Z is the optical axis
    np.testing.assert_allclose(rotation_world_to_camera(0.0, 0.0) @ [0, 1, 0], [0, -1, 0])  # up is -y


def test_pitch_down_moves_the_horizon_up():
    level = EgoMotion(0.0, 1.5, 0.0, 0.0, 0.0, K).pose(0.0)
    pitched = EgoMotion(0.0, 1.5, np.radians(5.0), 0.0, 0.0, K).pose(0.0)
    far = np.array([0.0, 1.5, 1e5])
    assert abs(level.project(level.to_camera(far))[1] - K.cy) < 0.1
    assert pitched.project(pitched.to_camera(far))[1] < K.cy - 20


def test_project_matches_the_core_camera():
    pose = EgoMotion(1.0, 1.4, np.radians(3.0), 5.0, np.radians(2.0), K).pose(1.3)
    points = pose.to_camera(np.array([[2.0, 0.0, 20.0], [-3.0, 1.7, 9.0]]))
    np.testing.assert_allclose(pose.project(points), K.project(points), atol=1e-9)


def test_ego_motion_drives_forward_and_turns():
    ego = EgoMotion(0.5, 1.5, 0.0, 8.0, np.radians(3.0), K)
    start, later = ego.pose(0.0), ego.pose(2.0)
    assert later.centre[2] - start.centre[2] > 15.0
    assert later.centre[0] > start.centre[0]  # turning towards +X drifts right
    assert not np.allclose(later.rotation, start.rotation)
    still = EgoMotion(0.5, 1.5, 0.0, 0.0, 0.0, K)
    np.testing.assert_allclose(still.pose(3.0).centre, still.pose(0.0).centre)
