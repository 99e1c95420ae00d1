"""Fault injection on the real ROS 2 graph: a node killed (SIGKILL) mid-bag and restarted.

Detector and tracker run as separate processes over Fast DDS; our player publishes a synthetic bag
lock-step (next image once this one's outputs are in). The detector is killed after frame 3 and
restarted, the tracker after frame 7. Every frame still yields exactly one detections and one tracks
message; across the detector's restart the tracker never notices (its ids equal an uninterrupted
offline replay's), and after its own restart the tracker gives the ids a fresh tracker gives from
that frame on (the offline pipeline started there).
"""

from __future__ import annotations

import itertools
import signal
import time

import pytest

from crowd_perception.ros import bag as bagio
from crowd_perception.ros import convert

pytestmark = [pytest.mark.ros2_graph, pytest.mark.usefixtures("ros2_runtime")]

FRAMES = 12
NODES = ("detector", "tracker")
KILL_DETECTOR_AFTER, KILL_TRACKER_AFTER = 4, 8  # frames played before each kill


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """``[(stamp, image message bytes, image)]`` of a synthetic street bag."""
    from crowd_perception.synth import generate

    path = tmp_path_factory.mktemp("faults") / "in"
    bagio.write_synthetic_bag(itertools.islice(generate("demo"), FRAMES), path)
    with bagio.BagReader(path) as reader:
        store = reader.kit.store
        return [(f.header.stamp_ns, bytes(store.serialize_cdr(f.image_msg, f.image_msg.__msgtype__)), f.image)
                for f in reader.frames()]


def _offline_ids(frames) -> list[list[int]]:
    """Track ids per frame of the offline pipeline (same config and models) started at ``frames[0]``."""
    from crowd_perception.pipeline import Pipeline

    pipeline = Pipeline.from_config(stages=NODES)
    return [pipeline.run(image, stamp, None).tracks.ids.tolist() for stamp, _, image in frames]


def _endpoints(client, topic: str, publishers: bool) -> set[bytes]:
    node = client.recorder
    infos = node.get_publishers_info_by_topic(topic) if publishers else node.get_subscriptions_info_by_topic(topic)
    return {bytes(info.endpoint_gid) for info in infos}


def _restart(graph, client, name: str, watched: list[tuple[str, bool]]) -> int:
    """SIGKILL ``name``, start it again, wait until its new endpoints on ``watched`` are discovered."""
    before = {key: _endpoints(client, *key) for key in watched}
    exit_code = graph.kill(name).returncode
    graph.restart(name)
    deadline = time.monotonic() + 60
    while not all(_endpoints(client, *key) - before[key] for key in watched):
        graph.check_alive()
        assert time.monotonic() < deadline, f"restarted {name} never appeared on {watched}"
        time.sleep(0.1)
    # Seeing the new endpoints is not the same as every writer having matched every reader (the other
    # nodes' writers to the new readers, the new writers to ours); a message published before that is
    # gone (volatile QoS). 1 s was too short once on a quiet CI-like run; 3 s is the settle margin.
    time.sleep(3.0)
    return exit_code


def _play(client, frames) -> list[list[str]]:
    missing = []
    for stamp, raw, _ in frames:
        client.publish_frame(raw)
        missing.append(client.wait_outputs(stamp, 30.0))
    return missing


def test_a_killed_and_restarted_node_loses_no_frames_and_the_tracker_recovers_ids(frames):
    from crowd_perception.ros.graph import NodeGraph
    from crowd_perception.ros.graph_replay import GraphClient

    graph = NodeGraph(NODES).start()  # the shipped params file; the tracker told not to wait for poses
    try:
        with GraphClient(graph, NODES) as client:
            client.wait_ready(120)
            time.sleep(1.0)  # the nodes match our publisher about when we see them (volatile: none replayed)
            detections, tracks = graph.topic("detections"), graph.topic("tracks")
            missing = _play(client, frames[:KILL_DETECTOR_AFTER])
            detector_exit = _restart(graph, client, "detector", [(graph.image_topic, False), (detections, True)])
            missing += _play(client, frames[KILL_DETECTOR_AFTER:KILL_TRACKER_AFTER])
            tracker_exit = _restart(graph, client, "tracker", [(detections, False), (tracks, True)])
            missing += _play(client, frames[KILL_TRACKER_AFTER:])
            with client._lock:
                counts = [(client.counts[(detections, s)], client.counts[(tracks, s)]) for s, _, _ in frames]
                ids = [convert.tracks_from_msg(client.received[tracks][s])[1].ids.tolist()
                       if s in client.received[tracks] else None for s, _, _ in frames]
    finally:
        exits = graph.stop()
        graph.cleanup()
    assert detector_exit == tracker_exit == -signal.SIGKILL
    assert missing == [[]] * FRAMES and counts == [(1, 1)] * FRAMES  # no frame lost, none twice
    assert all(exit.clean for exit in exits.values()), exits  # the restarted nodes stop like the others
    uninterrupted = _offline_ids(frames)
    fresh = _offline_ids(frames[KILL_TRACKER_AFTER:])
    assert ids[:KILL_TRACKER_AFTER] == uninterrupted[:KILL_TRACKER_AFTER]  # across the detector's restart
    assert ids[KILL_TRACKER_AFTER:] == fresh  # the restarted tracker: consistent new ids
    assert any(fresh) and any(uninterrupted[:KILL_TRACKER_AFTER])  # there were people to track
