"""The four nodes on the real rclpy (in this process, with small fake model runners): parameters and
descriptors as rclpy itself enforces them, the real entities' topics, types and QoS, start-up
failures, and one output per input through DDS with the input's header.

test/ros/fake_rclpy.py remains for what the real runtime cannot produce on demand: simulated
faults (bad encodings, processing errors, incompatible-QoS events), live mode driven timer by
timer, forced diagnostics. The graph of separate processes is tested in test_graph.py.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from crowd_perception.core.types import Header
from crowd_perception.pipeline.params import ParameterError, param_specs
from crowd_perception.pipeline.stages import TrackerNodeConfig, build_runner
from crowd_perception.ros import convert

from .nodes_fakes import FakeDetector, FakePose3DEstimator, FakePoseEstimator

NODES = {
    "detector_node": ("DetectorNode", FakeDetector),
    "occluded_pose_node": ("OccludedPoseNode", lambda: FakePoseEstimator("body22")),
    "pose3d_node": ("Pose3DNode", FakePose3DEstimator),
    "tracker_node": ("TrackerNode", lambda: build_runner(TrackerNodeConfig())),
}


def _make(rclpy_node, module: str, **overrides):
    cls, runner = NODES[module]
    return rclpy_node(module, cls, runner(), **overrides)


@pytest.mark.parametrize("module", sorted(NODES))
def test_parameters_and_descriptors_as_rclpy_enforces_them(rclpy_node, module):
    from rclpy.parameter import Parameter

    node = _make(rclpy_node, module)
    specs = param_specs(node.CONFIG)
    for spec in specs:
        descriptor = node.describe_parameter(spec.name)
        assert descriptor.read_only == (not spec.dynamic) and descriptor.description
        assert node.get_parameter(spec.name).value == spec.default
    fixed = next(s for s in specs if not s.dynamic)
    (refused,) = node.set_parameters([Parameter(fixed.name, value=fixed.default)])
    assert not refused.successful  # rclpy refuses a read-only parameter before our callback runs
    threshold = next(s for s in specs if s.dynamic and s.type is float)
    (out_of_range,) = node.set_parameters([Parameter(threshold.name, value=float(threshold.high) + 0.5)])
    assert not out_of_range.successful and getattr(node.config, threshold.name) == threshold.default
    (ok,) = node.set_parameters([Parameter(threshold.name, value=float(threshold.high))])
    assert ok.successful and getattr(node.stage.config, threshold.name) == threshold.high


def test_topics_types_and_qos_of_the_real_entities(rclpy_node):
    from rclpy.qos import ReliabilityPolicy

    detector = _make(rclpy_node, "detector_node", qos_input_depth=3)
    subscriptions = {s.topic_name: s for s in detector.subscriptions}
    publishers = {p.topic_name: p for p in detector.publishers}
    image, detections = subscriptions["/image"], publishers["/detections"]
    assert image.msg_type.__name__ == "Image" and detections.msg_type.__name__ == "DetectionArray"
    assert image.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT and image.qos_profile.depth == 3
    assert detections.qos_profile.reliability == ReliabilityPolicy.RELIABLE and detections.qos_profile.depth == 10
    assert "/diagnostics" in publishers
    tracker = _make(rclpy_node, "tracker_node", attach_poses_2d=True, qos_input_reliability="reliable")
    inputs = {s.topic_name: s for s in tracker.subscriptions}
    assert {"/detections", "/poses_2d"} <= set(inputs)
    assert inputs["/detections"].qos_profile.reliability == ReliabilityPolicy.RELIABLE


def test_start_up_failures_are_clear(rclpy_node, tmp_path):
    with pytest.raises(ParameterError, match="backend"):
        _make(rclpy_node, "detector_node", backend="cuda-magic")
    with pytest.raises(FileNotFoundError, match="detector model not found"):
        rclpy_node("detector_node", "DetectorNode", None, model_path=str(tmp_path / "none.onnx"))


def test_one_output_per_input_through_dds_with_the_input_header(rclpy_node):
    import rclpy
    from crowd_perception.msg import DetectionArray
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    from crowd_perception.ros.kit import RclpyKit

    node = _make(rclpy_node, "detector_node", live=False)
    probe = rclpy.create_node("probe", context=rclpy_node.context)
    received = []
    probe.create_subscription(DetectionArray, "/detections", received.append,
                              QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    publisher = probe.create_publisher(Image, "/image", QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE))
    executor = SingleThreadedExecutor(context=rclpy_node.context)
    executor.add_node(node)
    executor.add_node(probe)
    try:
        deadline = time.monotonic() + 10
        while publisher.get_subscription_count() < 1 or probe.count_publishers("/detections") < 1:
            assert time.monotonic() < deadline, "detector_node and the probe never matched"
            executor.spin_once(timeout_sec=0.05)
        values = [10, 20, 30]
        for i, value in enumerate(values):
            image = np.full((8, 8, 3), value, dtype=np.uint8)
            publisher.publish(convert.image_to_msg(image, Header(1000 + i, "cam"), RclpyKit()))
            while len(received) < i + 1:  # one image at a time: the subscription is best effort
                assert time.monotonic() < deadline + 10, f"no DetectionArray for image {i}"
                executor.spin_once(timeout_sec=0.05)
    finally:
        executor.shutdown(timeout_sec=1.0)
        probe.destroy_node()
    assert len(received) == 3
    for i, msg in enumerate(received):
        header, detections = convert.detections_from_msg(msg)
        assert header == Header(1000 + i, "cam")
        assert detections.boxes[0, 0] == values[i]  # this output belongs to this input
        assert len(detections) == 2  # 0.05 is under the default score_threshold
