"""The four nodes as separate processes on a real ROS 2 graph (rclpy + Fast DDS, shared memory).

One graph (detector, occluded pose, 3D pose, tracker; shipped models, config/crowd_perception.yaml,
started with the launch file's command lines) serves the module: our bag player publishes a
synthetic bag made with the synth and bag writers, our recorder takes every output. The tests then
check frames in = messages out with the image headers, the offline replay's identical results, QoS
compatibility, diagnostics, a run-time parameter change, and last a clean SIGINT shutdown.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time

import numpy as np
import pytest

from crowd_perception.ros import bag as bagio
from crowd_perception.ros import convert

pytestmark = [pytest.mark.ros2_graph, pytest.mark.usefixtures("ros2_runtime")]

FRAMES = 8
STAGES = ("detector", "pose2d", "pose3d", "tracker")


@pytest.fixture(scope="module")
def synthetic_bag(tmp_path_factory):
    from crowd_perception.synth import generate

    path = tmp_path_factory.mktemp("graph") / "in"
    bagio.write_synthetic_bag(itertools.islice(generate("demo"), FRAMES), path)
    return path


@pytest.fixture(scope="module")
def live(ros2_runtime, synthetic_bag, tmp_path_factory):
    """The running graph, its player/recorder client and the report + output bag of one pass."""
    from crowd_perception.ros.graph import NodeGraph
    from crowd_perception.ros.graph_replay import GraphClient, replay_graph

    out = tmp_path_factory.mktemp("graph_out") / "replayed"
    graph = NodeGraph(STAGES).start()
    client = None
    try:
        client = GraphClient(graph, STAGES)
        report = replay_graph(synthetic_bag, out, graph=graph, client=client)
        yield {"graph": graph, "client": client, "report": report, "out": out}
    finally:
        if client is not None:
            client.close()
        graph.stop()
        graph.cleanup()


def test_every_frame_yields_one_message_per_output_topic_with_the_image_header(live, synthetic_bag):
    report, client, graph = live["report"], live["client"], live["graph"]
    assert (report.frames, report.processed, report.failed, report.duplicates) == (FRAMES, FRAMES, [], {})
    with bagio.BagReader(synthetic_bag) as reader:
        headers = [(convert.header_from_msg(m.header).stamp_ns, m.header.frame_id) for _, m in reader.read(bagio.IMAGE_TOPIC)]
    assert len(headers) == FRAMES
    for stage in STAGES:
        topic = graph.topic({"detector": "detections", "pose2d": "poses_2d", "pose3d": "poses_3d",
                             "tracker": "tracks"}[stage])
        got = [(convert.header_from_msg(m.header).stamp_ns, m.header.frame_id)
               for _, m in sorted(client.received[topic].items())]
        assert got == headers, topic
        assert all(client.counts[(topic, stamp)] == 1 for stamp, _ in headers), f"{topic}: not exactly one message"
    with bagio.BagReader(live["out"]) as reader:  # the output bag: every output of every frame, image header
        for frame in reader.frames():
            for topic in bagio.OUTPUT_TOPICS.values():
                assert convert.header_from_msg(frame.messages[topic].header) == frame.header


def test_graph_replay_equals_the_offline_replay_and_evaluates(live, synthetic_bag, tmp_path):
    from crowd_perception.pipeline import Pipeline
    from crowd_perception.ros.evaluate import evaluate_bag
    from crowd_perception.ros.graph_replay import compare_output_bags
    from crowd_perception.ros.replay import replay_bag

    offline = tmp_path / "offline"
    replay_bag(synthetic_bag, offline, Pipeline.from_config())  # shipped models and config, frame-locked
    comparison = compare_output_bags(offline, live["out"], tolerance=1e-4)
    assert comparison["counts_equal"], comparison
    assert comparison["graph_counts"] == {t: FRAMES for t in bagio.OUTPUT_TOPICS.values()}
    assert comparison["frames_compared"] == FRAMES and comparison["detections_equal"], comparison
    with bagio.BagReader(offline) as a, bagio.BagReader(live["out"]) as b:  # the rest of the outputs too
        for fa, fb in zip(a.frames(), b.frames(), strict=True):
            _, ta = convert.tracks_from_msg(fa.messages[bagio.OUTPUT_TOPICS["tracks"]])
            _, tb = convert.tracks_from_msg(fb.messages[bagio.OUTPUT_TOPICS["tracks"]])
            assert ta.ids.tolist() == tb.ids.tolist()
            np.testing.assert_allclose(ta.boxes, tb.boxes, atol=1e-3)
            _, pa = convert.poses3d_from_msg(fa.messages[bagio.OUTPUT_TOPICS["poses_3d"]])
            _, pb = convert.poses3d_from_msg(fb.messages[bagio.OUTPUT_TOPICS["poses_3d"]])
            assert pa.placed_with_intrinsics.tolist() == pb.placed_with_intrinsics.tolist()
            np.testing.assert_allclose(pa.joints_camera, pb.joints_camera, atol=1e-4)
    ours, theirs = evaluate_bag(live["out"]), evaluate_bag(offline)
    assert ours.frames == theirs.frames == FRAMES
    assert ours.detection["ap"] == pytest.approx(theirs.detection["ap"]) and ours.tracking is not None


def test_publishers_and_subscribers_of_every_topic_have_compatible_qos(live):
    from rclpy.qos import QoSCompatibility, qos_check_compatible

    graph, client, report = live["graph"], live["client"], live["report"]
    topics = [graph.image_topic, graph.camera_info_topic, "/diagnostics",
              *(graph.topic(t) for t in ("detections", "poses_2d", "poses_3d", "tracks"))]
    pairs = 0
    for topic in topics:
        publishers = client.recorder.get_publishers_info_by_topic(topic)
        subscriptions = client.recorder.get_subscriptions_info_by_topic(topic)
        assert publishers and subscriptions, topic
        for pub in publishers:
            for sub in subscriptions:
                compatibility, reason = qos_check_compatible(pub.qos_profile, sub.qos_profile)
                assert compatibility != QoSCompatibility.ERROR, f"{topic}: {pub.node_name} -> {sub.node_name}: {reason}"
                pairs += 1
    assert pairs >= 12
    # and nobody saw an incompatible peer: neither our player/recorder nor any node (their QoS event callbacks)
    assert report.qos_events == [] and not any(report.node_qos_warnings.values())


def test_a_qos_mismatch_is_reported_by_the_node(ros2_runtime):
    """A best-effort publisher of detections against the tracker, which takes its inputs reliably."""
    from crowd_perception.msg import DetectionArray
    from rclpy.event_handler import PublisherEventCallbacks
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    from crowd_perception.ros.graph import NodeGraph
    from crowd_perception.ros.graph_replay import GraphClient

    graph = NodeGraph(["tracker"]).start()
    events = []
    try:
        with GraphClient(graph, ["tracker"]) as client:
            client.wait_ready(60)
            client.player.create_publisher(
                DetectionArray, graph.topic("detections"), QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT),
                event_callbacks=PublisherEventCallbacks(incompatible_qos=events.append))
            deadline = time.monotonic() + 20
            while not ("incompatible QoS" in graph.log("tracker") and events) and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        exits = graph.stop()
        log = graph.log("tracker")
        graph.cleanup()
    assert "subscription detections: incompatible QoS" in log and "RELIABILITY" in log, log
    assert events, "our publisher's own event callback saw it too"
    assert exits["tracker"].clean


def test_diagnostics_are_published_for_every_node(live):
    diagnostics = live["report"].diagnostics
    assert set(diagnostics) == {"detector_node", "occluded_pose_node", "pose3d_node", "tracker_node"}
    for node, values in diagnostics.items():
        assert values["level"] == "0" and values["message"] == "ok", (node, values)
        assert int(values["received"]) == int(values["published"]) == FRAMES, (node, values)
        assert (values["dropped"], values["errors"], values["rejected"]) == ("0", "0", "0"), (node, values)
        assert values["runner"]
    assert diagnostics["pose3d_node"]["missing_camera_info"] == "0"  # the player's CameraInfo arrived first
    assert diagnostics["detector_node"]["live"] == "True"  # config/: newest image only, yet nothing dropped


def test_score_threshold_changes_at_run_time(live, synthetic_bag, tmp_path):
    from crowd_perception.ros.graph_replay import replay_graph

    graph, client = live["graph"], live["client"]
    (ok,) = client.set_parameters("detector", {"score_threshold": 0.6})
    assert ok.successful
    (read_only,) = client.set_parameters("detector", {"backend": "tensorrt"})
    (out_of_range,) = client.set_parameters("detector", {"score_threshold": 1.5})
    assert not read_only.successful and not out_of_range.successful
    with bagio.BagReader(live["out"]) as reader:  # first pass (config: 0.2)
        before = [convert.detections_from_msg(m)[1] for _, m in reader.read(bagio.OUTPUT_TOPICS["detections"])]
        last = max(convert.header_from_msg(m.header).stamp_ns for _, m in reader.read(bagio.IMAGE_TOPIC))
    first = min(s for s in client.received[graph.topic("detections")])
    offset = last - first + 1_000_000_000  # the same images again, later: nodes never see a stamp twice
    report = replay_graph(synthetic_bag, tmp_path / "again", graph=graph, client=client, stamp_offset_ns=offset)
    assert report.processed == FRAMES
    with bagio.BagReader(tmp_path / "again") as reader:
        after = [convert.detections_from_msg(m)[1] for _, m in reader.read(bagio.OUTPUT_TOPICS["detections"])]
    assert any((d.scores < 0.6).any() for d in before), "the first pass must have detections under 0.6"
    for old, new in zip(before, after, strict=True):
        keep = old.scores >= 0.6
        assert new.scores.tolist() == old.scores[keep].tolist()
        np.testing.assert_array_equal(new.boxes, old.boxes[keep])


def test_sigint_stops_every_node_cleanly_without_orphans(live):
    from crowd_perception.ros.graph import processes_of

    graph = live["graph"]
    live["client"].close()
    pids = [p.pid for p in graph.processes.values()]
    assert processes_of(graph.graph_id), "the graph's processes carry its id"
    exits = graph.stop(timeout_s=10.0)
    for name, end in exits.items():
        assert end.clean and end.seconds < 5.0, (name, end, graph.log(name)[-2000:])
    assert processes_of(graph.graph_id) == []
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            import os

            os.kill(pid, 0)


def test_replay_command_through_the_graph_then_evaluate(ros2_runtime, synthetic_bag, tmp_path):
    """The CLI path: ``replay --graph`` (detector only, for speed) writes a bag that ``evaluate`` reads."""
    out = tmp_path / "cli"
    cli = [sys.executable, "-m", "crowd_perception.cli"]
    run = subprocess.run([*cli, "replay", "--graph", "--bag", str(synthetic_bag), "--out", str(out),
                          "--stages", "detector"], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{FRAMES} frames through the ROS 2 graph (detector): {FRAMES} with every output" in run.stdout
    assert "FPS end to end through DDS" in run.stdout and "shutdown (SIGINT): detector 0" in run.stdout
    evaluated = subprocess.run([*cli, "evaluate", "--bag", str(out)], capture_output=True, text=True, timeout=180)
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    assert "detection  AP@0.5" in evaluated.stdout
