"""detector_node against the fake rclpy, for what the real runtime cannot produce on demand:
live-mode drops timer by timer, encodings, rejected and failing frames, forced diagnostics, a
simulated incompatible-QoS event. Parameters, topics, QoS, start-up failures and one output per
input run on the real rclpy in test_nodes_rclpy.py."""

from __future__ import annotations

import importlib

import cv2
import numpy as np
import pytest

from crowd_perception.core.types import Header
from crowd_perception.ros import convert

from . import fake_rclpy
from .nodes_fakes import FakeDetector


@pytest.fixture
def make_node(ros_node):
    return lambda **overrides: ros_node("detector_node", "DetectorNode", FakeDetector(), **overrides)


def _image(node, value: int, stamp_ns: int, encoding: str = "bgr8"):
    image = np.full((8, 8, 3), value, dtype=np.uint8)
    return convert.image_to_msg(image, Header(stamp_ns, "cam"), node.kit, encoding)





def test_live_mode_processes_the_newest_and_counts_drops(make_node):
    node = make_node(live=True)
    for i in range(3):
        node.subscriptions["image"].deliver(_image(node, 10 * (i + 1), 1000 + i))
    assert node.publishers["detections"].messages == []
    node.timers[0].fire()
    node.timers[0].fire()  # nothing pending: no output
    (msg,) = node.publishers["detections"].messages
    assert convert.header_from_msg(msg.header).stamp_ns == 1002
    assert node.dropped() == 2 and node.stats.received == 3
    # inputs and the worker are in different callback groups, so a multi-threaded executor keeps
    # receiving (and counting drops) while a frame is processed
    assert node.subscriptions["image"].callback_group is not node.timers[0].callback_group


@pytest.mark.parametrize("encoding", ["rgb8", "mono8", "bgra8", "rgba8"])
def test_supported_encodings(make_node, encoding):
    node = make_node(live=False)
    node.subscriptions["image"].deliver(_image(node, 40, 5, encoding))
    _, dets = convert.detections_from_msg(node.publishers["detections"].messages[0])
    assert dets.boxes[0, 0] == pytest.approx(40, abs=1)


def test_bad_encodings_are_rejected_counted_and_throttled(make_node):
    node = make_node(live=False)
    for i in range(3):
        msg = _image(node, 10, i)
        msg.encoding = "32FC1"
        node.subscriptions["image"].deliver(msg)
    out = node.publishers["detections"].messages  # one (empty) output per input, with its header
    assert [convert.header_from_msg(m.header).stamp_ns for m in out] == [0, 1, 2]
    assert all(len(m.detections) == 0 for m in out)
    assert node.stats.rejected == 3 and node.stats.rejected_by_reason == {"unsupported encoding": 3}
    errors = node.logger.messages("error")
    assert len(errors) == 1 and "32FC1" in errors[0]  # throttled
    status = node.diagnostics.force_update()["detector_node: detection"]
    assert status.level == fake_rclpy.DiagnosticStatus.WARN and status.values["rejected"] == "3"
    assert status.values["rejected: unsupported encoding"] == "3"





def test_diagnostics_report_rates_latency_and_identity(make_node):
    node = make_node(live=False)
    for i in range(3):
        node.clock.now_ns = 2_000_000_000 + i * 100_000_000
        node.subscriptions["image"].deliver(_image(node, 10, node.clock.now_ns - 50_000_000))
    status = node.diagnostics.force_update()["detector_node: detection"]
    assert status.level == fake_rclpy.DiagnosticStatus.OK
    assert float(status.values["input_rate_hz"]) == pytest.approx(10.0)
    assert float(status.values["latency_ms"]) == pytest.approx(50.0)
    assert "FakeDetector" in status.values["runner"] and node.diagnostics.hardware_id
    assert status.values["model"].endswith("weights/detector.onnx")


def test_processing_errors_are_counted_not_fatal(make_node):
    node = make_node(live=False)
    node.stage.runner.detect = lambda image: (_ for _ in ()).throw(RuntimeError("boom"))
    node.subscriptions["image"].deliver(_image(node, 10, 1))
    assert node.stats.errors == 1 and "boom" in node.logger.messages("error")[0]
    status = node.diagnostics.force_update()["detector_node: detection"]
    assert status.level == fake_rclpy.DiagnosticStatus.ERROR


def test_incompatible_qos_warns(make_node):
    node = make_node()
    node.subscriptions["image"].event_callbacks.incompatible_qos(type("E", (), {"last_policy_kind": "RELIABILITY"}))
    assert "incompatible QoS" in node.logger.messages("warning")[0]


def test_main_spins_the_node(monkeypatch):
    fake_rclpy.install(monkeypatch)
    module = importlib.import_module("crowd_perception.ros.nodes.detector_node")
    monkeypatch.setattr(module.DetectorNode, "__init__", lambda self: None)
    monkeypatch.setattr(module.DetectorNode, "destroy_node", lambda self: None)
    import sys

    assert module.main([]) == 0 and len(sys.modules["rclpy"].spun) == 1


def test_constant_noise_and_tiny_images_give_no_people_and_are_counted(ros_node):
    node = ros_node("detector_node", "DetectorNode", FakeDetector(), live=False, image_health_check=True)
    node.subscriptions["image"].deliver(_image(node, 0, 1))  # a black 8x8 frame
    noise = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    scene = cv2.resize(noise[:6, :8], (64, 48), interpolation=cv2.INTER_LINEAR)  # smooth: something to look at
    for stamp, image in enumerate((np.zeros((48, 64, 3), np.uint8), noise, scene), start=2):
        node.subscriptions["image"].deliver(convert.image_to_msg(image, Header(stamp, "cam"), node.kit))
    counts = [len(m.detections) for m in node.publishers["detections"].messages]
    assert counts == [0, 0, 0, 2]
    assert node.stage.flagged == {"image too small": 1, "constant image": 1, "noise image": 1}
    values = node.diagnostics.force_update()["detector_node: detection"].values
    assert values["no people: noise image"] == "1" and values["non-finite outputs (frame's result dropped)"] == "0"
