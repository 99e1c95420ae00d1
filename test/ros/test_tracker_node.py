"""tracker_node against the fake rclpy, with the real JDE tracker (no model needed)."""

from __future__ import annotations

import numpy as np

from crowd_perception.core.types import Detections, Header, Poses2D, TrackState
from crowd_perception.pipeline.stages import TrackerNodeConfig, build_runner
from crowd_perception.ros import convert

from . import fake_rclpy


def _dets(node, stamp: int, shift: float):
    boxes = np.array([[10 + shift, 10, 30 + shift, 60], [100 - shift, 10, 120 - shift, 60]])
    emb = np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0]])
    return convert.detections_to_msg(Detections(boxes, [0.9, 0.8], embeddings=emb), Header(stamp, "cam"), node.kit)


def _poses(node, stamp: int, shift: float):
    boxes = np.array([[100 - shift, 10, 120 - shift, 60]])
    poses = Poses2D("coco17", np.full((1, 17, 2), 50.0), boxes=boxes)
    return convert.poses2d_to_msg(poses, Header(stamp, "cam"), node.kit)


def _tracker():
    return build_runner(TrackerNodeConfig())


def test_one_track_array_per_detection_message_with_stable_ids(ros_node):
    node = ros_node("tracker_node", "TrackerNode", _tracker(), live=False)
    assert set(node.subscriptions) == {"detections"}
    for i in range(4):
        node.subscriptions["detections"].deliver(_dets(node, 10**9 + i * 10**8, 2.0 * i))
    out = node.publishers["tracks"].messages
    assert len(out) == 4
    headers, tracks = zip(*(convert.tracks_from_msg(m) for m in out), strict=True)
    assert [h.stamp_ns for h in headers] == [10**9 + i * 10**8 for i in range(4)]
    assert set(tracks[-1].ids) == set(tracks[0].ids) and len(tracks[-1]) == 2
    assert (tracks[-1].states == TrackState.CONFIRMED).all()


def test_poses_are_attached_by_box_overlap_at_the_same_stamp(ros_node):
    node = ros_node("tracker_node", "TrackerNode", _tracker(), live=False, attach_poses_2d=True)
    assert set(node.subscriptions) == {"detections", "poses_2d"}
    for i in range(2):
        stamp = 10**9 + i * 10**8
        node.subscriptions["detections"].deliver(_dets(node, stamp, 0.0))
        assert len(node.publishers["tracks"].messages) == i  # waits for the poses of this stamp
        node.subscriptions["poses_2d"].deliver(_poses(node, stamp, 0.0))
    _, tracks = convert.tracks_from_msg(node.publishers["tracks"].messages[-1])
    with_pose = np.isfinite(tracks.poses_2d.keypoints).all(axis=(1, 2))
    assert with_pose.sum() == 1
    assert tracks.boxes[with_pose][0, 0] > 90  # attached to the right-hand person


def test_missing_poses_release_detections_when_the_cache_is_full(ros_node):
    node = ros_node("tracker_node", "TrackerNode", _tracker(), live=False, attach_poses_2d=True, sync_capacity=2)
    for i in range(4):
        node.subscriptions["detections"].deliver(_dets(node, 10**9 + i * 10**8, 0.0))
    assert len(node.publishers["tracks"].messages) == 2 and node.sync.incomplete == 2


def test_thresholds_reach_the_running_tracker(ros_node):
    node = ros_node("tracker_node", "TrackerNode", _tracker(), live=False)
    (result,) = node.set_parameters([fake_rclpy.Parameter("new_track_threshold", 0.95)])
    assert result.successful and node.stage.runner.config.new_track_threshold == 0.95
    node.subscriptions["detections"].deliver(_dets(node, 1, 0.0))
    _, tracks = convert.tracks_from_msg(node.publishers["tracks"].messages[-1])
    assert len(tracks) == 0  # 0.9 and 0.8 no longer start tracks


def test_motion_compensation_input(ros_node):
    node = ros_node("tracker_node", "TrackerNode", _tracker(), live=False, motion_compensation=True)
    node.subscriptions["detections"].deliver(_dets(node, 5, 0.0))
    node.subscriptions["homography"].deliver(convert.homography_to_msg(np.eye(3), Header(5, "cam"), node.kit))
    assert len(node.publishers["tracks"].messages) == 1 and node.stage.runner.config.camera_motion


def test_visualizer_publishes_only_when_subscribed(ros_node):
    from crowd_perception.core.types import Poses3D, Tracks

    node = ros_node("visualizer_node", "VisualizerNode", None, live=False)
    image = convert.image_to_msg(np.zeros((48, 64, 3), np.uint8), Header(3, "cam"), node.kit)
    joints = np.zeros((1, 22, 3)) + [0, 0, 5.0]
    tracks = Tracks([1], [TrackState.CONFIRMED], [[5, 5, 20, 30]], poses_3d=Poses3D("body22", joints, joints))
    node.subscriptions["image"].deliver(image)
    node.subscriptions["tracks"].deliver(convert.tracks_to_msg(tracks, Header(3, "cam"), node.kit))
    assert node.publishers["debug_image"].messages == [] and node.publishers["markers"].messages == []
    node.publishers["debug_image"].subscribers = 1
    node.publishers["markers"].subscribers = 1
    node.subscriptions["image"].deliver(convert.image_to_msg(np.zeros((48, 64, 3), np.uint8), Header(4, "cam"),
                                                            node.kit))
    node.subscriptions["tracks"].deliver(convert.tracks_to_msg(tracks, Header(4, "cam"), node.kit))
    (debug,) = node.publishers["debug_image"].messages
    assert convert.header_from_msg(debug.header).stamp_ns == 4 and convert.image_from_msg(debug).any()
    (markers,) = node.publishers["markers"].messages
    assert len(markers.markers) == 2


def test_stamps_going_backwards_reset_the_sync_and_the_tracker(ros_node):
    node = ros_node("tracker_node", "TrackerNode", _tracker(), live=False, attach_poses_2d=True)
    for i in range(3):
        node.subscriptions["detections"].deliver(_dets(node, 20 * 10**9 + i * 10**8, 2.0 * i))
        node.subscriptions["poses_2d"].deliver(_poses(node, 20 * 10**9 + i * 10**8, 2.0 * i))
    assert len(node.publishers["tracks"].messages) == 3
    for i in range(3):  # the bag starts again
        node.subscriptions["detections"].deliver(_dets(node, 10**9 + i * 10**8, 2.0 * i))
        node.subscriptions["poses_2d"].deliver(_poses(node, 10**9 + i * 10**8, 2.0 * i))
    out = node.publishers["tracks"].messages
    assert len(out) == 6 and node.sync.resets == 1 and node.runner.resets == 1
    assert convert.header_from_msg(out[-1].header).stamp_ns == 10**9 + 2 * 10**8


def test_detections_beyond_the_trackers_cap_are_counted_in_the_diagnostics(ros_node):
    from crowd_perception.tracking import Tracker

    node = ros_node("tracker_node", "TrackerNode", Tracker(max_detections=1), live=False)
    node.subscriptions["detections"].deliver(_dets(node, 10**9, 0.0))  # two detections, cap 1
    values = node.diagnostics.force_update()["tracker_node: tracking"].values
    assert values["detections beyond max_detections (not tracked)"] == "1"
    assert len(convert.tracks_from_msg(node.publishers["tracks"].messages[0])[1]) == 1
