"""occluded_pose_node and pose3d_node against the fake rclpy."""

from __future__ import annotations

import numpy as np

from crowd_perception.core.camera import PinholeCamera
from crowd_perception.core.types import Detections, Header, JointState
from crowd_perception.ros import convert

from .nodes_fakes import FakePose3DEstimator, FakePoseEstimator


def _image(node, stamp: int, size=(48, 64)):
    return convert.image_to_msg(np.zeros((*size, 3), dtype=np.uint8), Header(stamp, "cam"), node.kit)


def _detections(node, stamp: int, x: float):
    dets = Detections([[x, 0, x + 10, 40], [x + 20, 0, x + 30, 40]], [0.9, 0.1])
    return convert.detections_to_msg(dets, Header(stamp, "cam"), node.kit)


def test_pose_node_matches_image_and_detections_by_stamp(ros_node):
    node = ros_node("occluded_pose_node", "OccludedPoseNode", FakePoseEstimator(), live=False)
    assert set(node.subscriptions) == {"image", "detections"} and set(node.publishers) == {"poses_2d"}
    # detections arrive before and after their images, interleaved
    node.subscriptions["detections"].deliver(_detections(node, 2, x=20))
    node.subscriptions["image"].deliver(_image(node, 1))
    node.subscriptions["image"].deliver(_image(node, 2))
    node.subscriptions["detections"].deliver(_detections(node, 1, x=10))  # late: stamp 2 was released
    out = node.publishers["poses_2d"].messages
    assert len(out) == 1
    header, poses = convert.poses2d_from_msg(out[0])
    assert header == Header(2, "cam") and poses.skeleton == "coco17"
    assert len(poses) == 1 and poses.boxes[0, 0] == 20  # only the box above min_box_score
    assert poses.states[0, 1] == JointState.OCCLUDED and poses.person_scores[0] == np.float32(0.9)
    assert node.sync.late == 1 and node.dropped() >= 1


def test_pose_node_cache_is_bounded(ros_node):
    node = ros_node("occluded_pose_node", "OccludedPoseNode", FakePoseEstimator(), live=False, sync_capacity=2)
    for stamp in range(5):  # images whose detections never come
        node.subscriptions["image"].deliver(_image(node, stamp))
    assert node.sync.pending == 2 and node.sync.dropped == 3
    assert node.publishers["poses_2d"].messages == []


def test_pose_node_occlusion_threshold_is_dynamic(ros_node):
    estimator = FakePoseEstimator()
    node = ros_node("occluded_pose_node", "OccludedPoseNode", estimator, live=False)
    from . import fake_rclpy

    (result,) = node.set_parameters([fake_rclpy.Parameter("occlusion_threshold", 0.8)])
    assert result.successful
    node.subscriptions["image"].deliver(_image(node, 1))
    node.subscriptions["detections"].deliver(_detections(node, 1, x=5))
    assert estimator.occlusion_threshold == 0.8 and len(node.publishers["poses_2d"].messages) == 1


def test_pose3d_node_with_and_without_camera_info(ros_node):
    node = ros_node("pose3d_node", "Pose3DNode", FakePose3DEstimator(), live=False)
    node.subscriptions["image"].deliver(_image(node, 1))
    header, poses = convert.poses3d_from_msg(node.publishers["poses_3d"].messages[-1])
    assert header == Header(1, "cam") and not poses.placed_with_intrinsics[0]
    assert np.isnan(poses.joints_camera).all() and np.isfinite(poses.joints_relative).all()
    assert node.stats.missing_camera_info == 1 and "root-relative" in node.logger.messages("warning")[0]

    camera = PinholeCamera(100, 100, 64, 48, 128, 96)  # twice the image resolution: rescaled
    node.subscriptions["camera_info"].deliver(convert.camera_to_msg(camera, Header(2, "cam"), node.kit))
    node.subscriptions["image"].deliver(_image(node, 2))
    _, poses = convert.poses3d_from_msg(node.publishers["poses_3d"].messages[-1])
    assert poses.placed_with_intrinsics[0] and np.isfinite(poses.joints_camera).all()


def test_pose3d_node_invalid_camera_info_and_required_mode(ros_node):
    node = ros_node("pose3d_node", "Pose3DNode", FakePose3DEstimator(), live=False, require_camera_info=True)
    info = convert.camera_to_msg(PinholeCamera(100, 100, 32, 24, 64, 48), Header(1, "cam"), node.kit)
    info.k[:] = np.nan
    info.p[:] = 0
    node.subscriptions["camera_info"].deliver(info)
    node.subscriptions["image"].deliver(_image(node, 1))
    assert node.publishers["poses_3d"].messages == []
    assert node.stats.missing_camera_info == 1 and "invalid CameraInfo" in node.logger.messages("warning")[0]


def test_pose3d_node_score_threshold(ros_node):
    node = ros_node("pose3d_node", "Pose3DNode", FakePose3DEstimator(), live=False, score_threshold=0.9)
    node.subscriptions["image"].deliver(_image(node, 1))
    _, poses = convert.poses3d_from_msg(node.publishers["poses_3d"].messages[-1])
    assert len(poses) == 0


def test_rejected_images_get_the_empty_result_with_their_header(ros_node):
    pose = ros_node("occluded_pose_node", "OccludedPoseNode", FakePoseEstimator(), live=False)
    bad = _image(pose, 3)
    bad.data = bad.data[:-5]  # short data
    pose.subscriptions["image"].deliver(bad)
    pose.subscriptions["detections"].deliver(_detections(pose, 3, x=5))
    (msg,) = pose.publishers["poses_2d"].messages
    header, poses = convert.poses2d_from_msg(msg)
    assert header == Header(3, "cam") and len(poses) == 0 and pose.stats.rejected_by_reason == {"malformed image": 1}
    pose3d = ros_node("pose3d_node", "Pose3DNode", FakePose3DEstimator(), live=False)
    bad = convert.compressed_image_to_msg(np.zeros((48, 64, 3), dtype=np.uint8), Header(4, "cam"), pose3d.kit)
    bad.data = bad.data[:0]
    pose3d.on_input(bad)  # the subscription takes Image; the decoding path is the same for CompressedImage
    (msg,) = pose3d.publishers["poses_3d"].messages
    header, poses = convert.poses3d_from_msg(msg)
    assert header == Header(4, "cam") and len(poses) == 0 and pose3d.stats.rejected_by_reason == {"empty data": 1}
