"""Debug drawing: occluded joints are drawn hollow, track colours are stable, 3D markers are valid."""

from __future__ import annotations

import numpy as np

from crowd_perception.core.types import Header, JointState, Poses2D, Poses3D, Tracks, TrackState
from crowd_perception.ros import draw
from crowd_perception.ros.kit import RosbagsKit


def _pose(state: int) -> Poses2D:
    keypoints = np.full((1, 17, 2), np.nan)
    keypoints[0, 0] = (20, 20)
    states = np.zeros((1, 17), dtype=np.uint8)
    states[0, 0] = state
    return Poses2D("coco17", keypoints, states=states)


def test_visible_joints_are_filled_occluded_hollow():
    filled = draw.draw_poses(np.zeros((40, 40, 3), np.uint8), _pose(JointState.VISIBLE))
    hollow = draw.draw_poses(np.zeros((40, 40, 3), np.uint8), _pose(JointState.OCCLUDED))
    assert filled[20, 20].any() and not hollow[20, 20].any()
    assert hollow[20, 23].any()  # the ring is there


def test_detections_below_the_display_score_are_not_drawn():
    from crowd_perception.core.types import Detections

    dets = Detections([[2, 2, 10, 10], [20, 20, 30, 30]], [0.9, 0.1])
    image = draw.draw_detections(np.zeros((40, 40, 3), np.uint8), dets, min_score=0.5)
    assert image[2, 5].any() and not image[20, 25].any()


def test_id_colors_are_stable_and_distinct():
    assert draw.id_color(3) == draw.id_color(3)
    assert len({draw.id_color(i) for i in range(1, 20)}) == 19


def test_draw_tracks_only_confirmed_and_current():
    tracks = Tracks([1, 2], [TrackState.CONFIRMED, TrackState.TENTATIVE], [[5, 5, 20, 30], [25, 5, 38, 30]])
    image = draw.draw_tracks(np.zeros((40, 40, 3), np.uint8), tracks)
    assert image[5, 12].any() and not image[5, 30].any()


def test_skeleton_markers():
    kit = RosbagsKit("humble")
    joints = np.zeros((2, 22, 3))
    joints[..., 2] = 5.0
    joints[0, 3] = np.nan  # one bad joint: its limbs are skipped
    poses = Poses3D("body22", joints, joints_camera=joints)
    poses.joints_camera[1] = np.nan  # not placed: no marker
    msg = draw.skeleton_markers(poses, Header(7, "cam"), kit, ids=np.array([4, 5]))
    assert [m.action for m in msg.markers] == [3, 0] and msg.markers[1].id == 4
    assert len(msg.markers[1].points) % 2 == 0 and msg.markers[1].header.frame_id == "cam"
    kit.store.serialize_cdr(msg, "visualization_msgs/msg/MarkerArray")  # a well-formed message
