"""``crowd-perception replay --graph``: a rosbag2 through the real node graph over DDS.

The nodes run as separate processes (:class:`~crowd_perception.ros.graph.NodeGraph`, started as
the launch file starts them, parameters from the params file); this process holds two more rclpy
nodes on the graph's domain:

* the **player** publishes each image of the bag (its bytes as recorded, like ``ros2 bag play``)
  and its CameraInfo, one frame at a time: the next frame goes out only when every output topic
  has delivered its message for the current one (lock-step), so no node ever drops a frame;
* the **recorder** subscribes to every output topic (reliable, as the nodes publish) and to
  ``/diagnostics``, and watches for incompatible QoS on its own side.

The output bag has the same layout as the offline replay's (every input topic, then the outputs
with receive time = the image's header stamp), so ``crowd-perception evaluate`` reads it and the
two can be compared message by message. At the end the graph is stopped with SIGINT and every
node must exit cleanly.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..pipeline import STAGES
from . import convert
from .bag import OUTPUT_TOPICS, REPLAY_KEY, BagReader, BagWriter
from .graph import OUTPUTS, GraphError, NodeExit, NodeGraph, dds_environment

if TYPE_CHECKING:
    from rclpy.publisher import Publisher

__all__ = ["GraphClient", "GraphReplayReport", "compare_output_bags", "replay_graph", "results_markdown"]

_LOG = logging.getLogger(__name__)
OUTPUT_TYPES = {
    "detections": "crowd_perception/msg/DetectionArray",
    "poses_2d": "crowd_perception/msg/Pose2DArray",
    "poses_3d": "crowd_perception/msg/Pose3DArray",
    "tracks": "crowd_perception/msg/TrackArray",
}
CAMERA_SETTLE_S = 0.1  # a changed CameraInfo goes out this long before its image (separate topics)


@contextmanager
def _environment(values: Mapping[str, str]):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class GraphClient:
    """The player and recorder nodes (and a parameter client) in this process, on ``graph``'s domain."""

    def __init__(self, graph: NodeGraph, stages: Iterable[str] = STAGES) -> None:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
        from rclpy.signals import SignalHandlerOptions

        from .kit import RclpyKit, RosbagsKit

        self.graph = graph
        self.stages = [s for s in stages if s in OUTPUTS]
        self.kit = RclpyKit()
        self.store = RosbagsKit().store  # our message definitions, to read what the graph publishes
        self.context = Context()
        # Fast DDS reads its transports when the context's participant is made (with the first node)
        with _environment(dds_environment(graph.domain_id)):
            rclpy.init(context=self.context, domain_id=graph.domain_id,
                       signal_handler_options=SignalHandlerOptions.NO)
            suffix = graph.graph_id[:8]  # unique per graph: two clients may share this process
            self.player = rclpy.create_node(f"bag_player_{suffix}", context=self.context)
            self.recorder = rclpy.create_node(f"recorder_{suffix}", context=self.context)
        self.qos_events: list[str] = []
        self._lock = threading.Condition()
        self.received: dict[str, dict[int, Any]] = defaultdict(dict)  # topic -> stamp -> message (rosbags)
        self.counts: Counter = Counter()  # (topic, stamp) -> messages received
        self.diagnostics: dict[str, Any] = {}  # status name -> latest DiagnosticStatus
        self._parameter_clients: dict[str, Any] = {}
        reliable = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST,
                              durability=DurabilityPolicy.VOLATILE)
        # reliable offers satisfy best-effort and reliable subscriptions alike
        self.image_publisher: Publisher[Any] = self.player.create_publisher(
            self.kit.make_class("sensor_msgs/msg/Image"), graph.image_topic, reliable,
            event_callbacks=self._publisher_events(graph.image_topic))
        self.camera_info_publisher: Publisher[Any] = self.player.create_publisher(
            self.kit.make_class("sensor_msgs/msg/CameraInfo"), graph.camera_info_topic, reliable,
            event_callbacks=self._publisher_events(graph.camera_info_topic))
        self.output_topics = {graph.topic(OUTPUTS[s]): OUTPUT_TYPES[OUTPUTS[s]] for s in self.stages}
        recorder_qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                                  history=HistoryPolicy.KEEP_LAST, durability=DurabilityPolicy.VOLATILE)
        self.subscriptions = {}
        for topic, typename in self.output_topics.items():
            self.subscriptions[topic] = self.recorder.create_subscription(
                self.kit.make_class(typename), topic, lambda raw, topic=topic, typename=typename:
                self._on_output(topic, typename, raw), recorder_qos, raw=True,
                event_callbacks=self._subscription_events(topic))
        self.recorder.create_subscription(self.kit.make_class("diagnostic_msgs/msg/DiagnosticArray"),
                                          "/diagnostics", self._on_diagnostics, recorder_qos)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.player)
        self.executor.add_node(self.recorder)
        self._thread = threading.Thread(target=self._spin, name="graph-client", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ callbacks
    def _spin(self) -> None:
        from rclpy.executors import ExternalShutdownException

        try:
            while self.context.ok():
                self.executor.spin_once(timeout_sec=0.05)
        except (ExternalShutdownException, KeyboardInterrupt):
            pass
        except Exception as exc:  # a context shut down under the executor while closing
            if self.context.ok():
                _LOG.error("graph client executor stopped: %s", exc)

    def _publisher_events(self, topic: str):
        from rclpy.event_handler import PublisherEventCallbacks

        return PublisherEventCallbacks(incompatible_qos=lambda e: self._qos_event("player publisher", topic, e))

    def _subscription_events(self, topic: str):
        from rclpy.event_handler import SubscriptionEventCallbacks

        return SubscriptionEventCallbacks(incompatible_qos=lambda e: self._qos_event("recorder subscription", topic, e))

    def _qos_event(self, role: str, topic: str, event: Any) -> None:
        with self._lock:
            self.qos_events.append(f"{role} {topic}: incompatible QoS (policy {getattr(event, 'last_policy_kind', '?')})")

    def _on_output(self, topic: str, typename: str, raw: bytes) -> None:
        msg: Any = self.store.deserialize_cdr(raw, typename)  # our definitions read the graph's bytes (rosbags class)
        stamp = convert.header_from_msg(msg.header).stamp_ns
        with self._lock:
            self.counts[(topic, stamp)] += 1
            self.received[topic].setdefault(stamp, msg)
            self._lock.notify_all()

    def _on_diagnostics(self, msg: Any) -> None:
        with self._lock:
            for status in msg.status:
                self.diagnostics[status.name] = status
            self._lock.notify_all()

    # ------------------------------------------------------------------ graph state
    def image_subscribers(self) -> int:
        return sum(1 for s in self.graph.nodes if s in ("detector", "pose2d", "pose3d", "visualizer"))

    def wait_ready(self, timeout_s: float = 120.0) -> float:
        """Wait until every node subscribes to what the player publishes and publishes what is recorded."""
        started = time.monotonic()
        want_info = int("pose3d" in self.graph.nodes)
        while True:
            self.graph.check_alive()
            ready = (self.image_publisher.get_subscription_count() >= self.image_subscribers()
                     and self.camera_info_publisher.get_subscription_count() >= want_info
                     and all(s.get_publisher_count() >= 1 for s in self.subscriptions.values()))
            if ready:
                return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                missing = [t for t, s in self.subscriptions.items() if s.get_publisher_count() < 1]
                raise GraphError(f"graph not ready after {timeout_s:.0f} s (no publisher yet on {missing}; "
                                 f"{self.image_publisher.get_subscription_count()} image subscribers); "
                                 f"node logs in {self.graph.log_dir}")
            time.sleep(0.05)

    def publish_frame(self, image_raw: bytes, camera_info_raw: bytes | None = None, settle_s: float = 0.0) -> None:
        if camera_info_raw is not None:
            self.camera_info_publisher.publish(camera_info_raw)
            if settle_s:
                time.sleep(settle_s)
        self.image_publisher.publish(image_raw)

    def wait_outputs(self, stamp_ns: int, timeout_s: float) -> list[str]:
        """Wait until every output topic has a message stamped ``stamp_ns``; returns the topics still missing."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while True:
                missing = [t for t in self.output_topics if stamp_ns not in self.received[t]]
                if not missing or time.monotonic() >= deadline:
                    return missing
                self._lock.wait(timeout=min(0.5, max(0.0, deadline - time.monotonic())))
                if missing and time.monotonic() < deadline:
                    self.graph.check_alive()

    def wait_diagnostics(self, predicate, timeout_s: float) -> bool:
        """Wait until ``predicate(diagnostics)`` holds (the nodes publish once per period)."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while not predicate(self.diagnostics):
                if time.monotonic() >= deadline:
                    return False
                self._lock.wait(timeout=0.2)
            return True

    def set_parameters(self, node: str, values: Mapping[str, Any], timeout_s: float = 10.0) -> list[Any]:
        """Set parameters of a graph node (launch name) through its parameter service; the results."""
        from rclpy.parameter import Parameter
        from rclpy.parameter_client import AsyncParameterClient

        name = self.graph.node_name(node)
        client = self._parameter_clients.get(name)  # its service clients live as long as the player
        if client is None:
            client = self._parameter_clients[name] = AsyncParameterClient(self.player, name)
        if not client.wait_for_services(timeout_sec=timeout_s):
            raise GraphError(f"parameter services of {name} not available")
        future = client.set_parameters([Parameter(k, value=v) for k, v in values.items()])
        deadline = time.monotonic() + timeout_s
        while not future.done() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not future.done():
            raise GraphError(f"no answer from {name}/set_parameters in {timeout_s} s")
        response = future.result()
        if response is None:  # done without a result: the call was cancelled
            raise GraphError(f"{name}/set_parameters was cancelled")
        return list(response.results)

    def close(self) -> None:
        import rclpy

        if self.context.ok():
            rclpy.shutdown(context=self.context)
        self._thread.join(timeout=5.0)
        self.executor.shutdown(timeout_sec=1.0)
        for node in (self.player, self.recorder):
            node.destroy_node()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()


# ------------------------------------------------------------------------------ the replay


@dataclass
class GraphReplayReport:
    """Frame accounting, timing and health of one replay through the graph."""

    input: str
    output: str
    stages: list[str]
    frames: int = 0
    processed: int = 0  # frames with every output received
    failed: list[tuple[int, str]] = field(default_factory=list)  # (frame index, missing outputs)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # undecodable input images
    duplicates: dict[str, int] = field(default_factory=dict)  # extra messages per output topic
    startup_seconds: float = 0.0  # node processes started -> graph matched
    wall_seconds: float = 0.0  # first image published -> last output received
    qos_events: list[str] = field(default_factory=list)  # player/recorder side
    node_qos_warnings: dict[str, list[str]] = field(default_factory=dict)  # from the nodes' logs
    diagnostics: dict[str, dict[str, str]] = field(default_factory=dict)  # node -> last status values
    exits: dict[str, NodeExit] = field(default_factory=dict)
    complete: bool = False

    @property
    def fps(self) -> float:
        """Frames per second end to end through DDS (publish image -> every output recorded), lock-step."""
        return self.frames / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def clean_shutdown(self) -> bool:
        return bool(self.exits) and all(e.clean for e in self.exits.values())

    @property
    def ok(self) -> bool:
        return (self.complete and not self.failed and not self.duplicates and not self.qos_events
                and not any(self.node_qos_warnings.values()) and self.clean_shutdown)

    def summary(self) -> str:
        lines = [f"{self.frames} frames through the ROS 2 graph ({', '.join(self.stages)}): {self.processed} with every "
                 f"output, {len(self.failed)} failed, {len(self.skipped)} skipped; {self.fps:.2f} FPS end to end "
                 f"through DDS (lock-step; graph up in {self.startup_seconds:.1f} s)"]
        for name, values in sorted(self.diagnostics.items()):
            lines.append(f"  {name}: received {values.get('received', '?')}, published {values.get('published', '?')}, "
                         f"dropped {values.get('dropped', '?')}, errors {values.get('errors', '?')}")
        for event in self.qos_events + [w for ws in self.node_qos_warnings.values() for w in ws]:
            lines.append(f"  QoS: {event}")
        for topic, extra in self.duplicates.items():
            lines.append(f"  {extra} extra messages on {topic}")
        exits = ", ".join(f"{e.name} {e.returncode} in {e.seconds:.1f} s" + ("" if e.clean else f" ({'+'.join(e.signals)})")
                          for e in self.exits.values())
        lines.append(f"  shutdown (SIGINT): {exits}")
        return "\n".join(lines)

    def to_json(self) -> str:
        """What the output bag records about its replay (the offline replay's keys, plus the graph's)."""
        return json.dumps({
            "complete": self.complete, "frames": self.frames, "processed": self.processed,
            "failed": len(self.failed), "skipped": dict(Counter(r for _, r in self.skipped)), "ended_early": None,
            "through": "ros2 graph",
        }, sort_keys=True)


def _camera_key(msg: Any) -> tuple | None:
    if msg is None:
        return None
    return (msg.width, msg.height, msg.distortion_model, tuple(msg.d), tuple(msg.k), tuple(msg.r), tuple(msg.p))


def _node_diagnostics(client: GraphClient, graph: NodeGraph) -> dict[str, dict[str, str]]:
    out = {}
    for name, status in client.diagnostics.items():
        node = name.split(":", 1)[0].strip()
        if node in {graph.executable(n) for n in graph.nodes}:
            values = {kv.key: kv.value for kv in status.values}
            values["level"] = str(int.from_bytes(status.level, "little") if isinstance(status.level, bytes)
                                  else status.level)
            values["message"] = status.message
            out[node] = values
    return out


def _qos_warnings(graph: NodeGraph) -> dict[str, list[str]]:
    return {graph.executable(n): [line for line in graph.log(n).splitlines() if "incompatible QoS" in line]
            for n in graph.nodes}


def replay_graph(input_bag: str | Path, output_bag: str | Path, *, config: str | Path | None = None,
                 stages: Iterable[str] = STAGES, backend: str | None = "onnxruntime",
                 namespace: str = "crowd_perception", image_topic: str | None = None,
                 camera_info_topic: str | None = None, storage: str = "mcap", frame_timeout_s: float = 60.0,
                 startup_timeout_s: float = 180.0, graph: NodeGraph | None = None,
                 client: GraphClient | None = None, stamp_offset_ns: int = 0, keep_logs: bool = False
                 ) -> GraphReplayReport:
    """Play ``input_bag`` through the node graph; write ``output_bag`` (input topics + recorded outputs).

    Without ``graph`` the nodes of ``stages`` are started here (and stopped with SIGINT at the end);
    with a running ``graph`` (and optionally its ``client``) they are used and left running, and
    ``stamp_offset_ns`` shifts the published stamps (to play a bag again into nodes that have seen
    its stamps). ``keep_logs`` keeps the nodes' logs when this function made the graph.
    """
    stages = [s for s in STAGES if s in list(stages)]
    report = GraphReplayReport(str(input_bag), str(output_bag), stages)
    with BagReader(input_bag) as reader:
        image_topic = reader.image_topic(image_topic)
        if camera_info_topic is None:
            infos = sorted(t for t, typ in reader.topics.items() if typ == "sensor_msgs/msg/CameraInfo")
            camera_info_topic = infos[0] if len(infos) == 1 else "/camera/camera_info"
    own_graph = graph is None
    started_at = 0.0  # when this function started the graph
    if graph is None:
        graph = NodeGraph(stages, config=config, namespace=namespace, image_topic=image_topic,
                          camera_info_topic=camera_info_topic, backend=backend)
        started_at = time.monotonic()
        graph.start()
    failed = True
    try:
        own_client = client is None
        client = client or GraphClient(graph, stages)
        try:
            report.startup_seconds = (time.monotonic() - started_at) if own_graph else 0.0
            ready = client.wait_ready(startup_timeout_s)
            if own_graph:
                report.startup_seconds = max(report.startup_seconds, ready)
            _play(input_bag, output_bag, client, graph, report, storage, frame_timeout_s, stamp_offset_ns,
                  image_topic, camera_info_topic)
            period = _diagnostics_period(graph)
            names = {graph.executable(s) for s in stages}
            client.wait_diagnostics(lambda d: _diagnosed(d, names, report.frames, client), 3 * period + 2.0)
            report.diagnostics = _node_diagnostics(client, graph)
            report.qos_events = list(client.qos_events)
            failed = False
        finally:
            if own_client:
                client.close()
    finally:
        if own_graph:
            report.exits = graph.stop()
            report.node_qos_warnings = _qos_warnings(graph)
            if not keep_logs and not failed and report.clean_shutdown:
                graph.cleanup()
            elif failed or not report.clean_shutdown:
                _LOG.warning("node logs kept in %s", graph.log_dir)
        else:
            report.node_qos_warnings = _qos_warnings(graph)
    return report


def _diagnostics_period(graph: NodeGraph) -> float:
    from ..pipeline.params import load_node_params

    try:
        return float(load_node_params(graph.config, "detector_node").get("diagnostics_period_s", 1.0))
    except Exception:
        return 1.0


def _diagnosed(diagnostics: dict[str, Any], names: set[str], frames: int, client: GraphClient) -> bool:
    """Every node has reported at least ``frames`` inputs received and outputs published."""
    seen = {}
    for name, status in diagnostics.items():
        node = name.split(":", 1)[0].strip()
        values = {kv.key: kv.value for kv in status.values}
        if node in names and "received" in values and "published" in values:
            seen[node] = min(int(values["received"]), int(values["published"]))
    return set(seen) == names and all(v >= frames for v in seen.values())


def _play(input_bag: str | Path, output_bag: str | Path, client: GraphClient, graph: NodeGraph,
          report: GraphReplayReport, storage: str, frame_timeout_s: float, stamp_offset_ns: int,
          image_topic: str, camera_info_topic: str) -> None:
    topics = {name: graph.topic(name) for name in OUTPUT_TYPES}
    written_topics = {graph.topic(OUTPUTS[s]): OUTPUT_TOPICS[OUTPUTS[s]] for s in report.stages}
    with BagReader(input_bag) as reader, BagWriter(output_bag, storage=storage) as writer:
        for key, value in reader.custom_data().items():
            writer.set_custom_data(key, value)
        ours = set(OUTPUT_TOPICS.values()) | set(topics.values())
        copied = set()
        for connection in reader.connections:
            if connection.topic in ours or (not connection.digest and connection.msgtype not in writer.kit.store.types):
                continue
            if connection.topic not in copied:
                writer.copy_connection(connection)
                copied.add(connection.topic)
        for connection, timestamp, raw in reader.raw_messages():
            if connection.topic in copied:
                writer.write_raw(connection.topic, raw, timestamp)
        store = reader.kit.store
        last_camera = None
        started = None
        for frame in reader.frames(image_topic, camera_info_topic):
            report.frames += 1
            stamp = frame.header.stamp_ns + stamp_offset_ns
            image_msg, info_msg = frame.image_msg, frame.camera_info_msg
            if image_msg is None:  # not even deserialisable: nothing to publish
                report.skipped.append((frame.index, frame.fault or "undecodable image"))
                continue
            if stamp_offset_ns:
                image_msg = _restamped(image_msg, stamp)
                info_msg = _restamped(info_msg, stamp) if info_msg is not None else None
            image_raw = bytes(store.serialize_cdr(image_msg, image_msg.__msgtype__))
            info_raw = bytes(store.serialize_cdr(info_msg, info_msg.__msgtype__)) if info_msg is not None else None
            camera = _camera_key(info_msg)
            settle = 0.0
            if camera is not None and camera != last_camera:  # the first one: longer, a loaded machine may be slow
                settle = CAMERA_SETTLE_S if last_camera is not None else 5 * CAMERA_SETTLE_S
            last_camera = camera
            if started is None:
                started = time.monotonic()
            client.publish_frame(image_raw, info_raw, settle)
            missing = client.wait_outputs(stamp, frame_timeout_s if frame.fault is None else min(frame_timeout_s, 2.0))
            if frame.fault is not None:
                report.skipped.append((frame.index, frame.fault))
            elif missing:
                report.failed.append((frame.index, "no message on " + ", ".join(missing)))
                _LOG.warning("frame %d (stamp %d): no message on %s", frame.index, stamp, ", ".join(missing))
            else:
                report.processed += 1
            with client._lock:
                received = {t: client.received[t].get(stamp) for t in client.output_topics}
            for topic in sorted(written_topics, key=lambda t: list(written_topics).index(t)):
                msg = received.get(topic)
                if msg is not None:
                    writer.write(written_topics[topic], msg, stamp)
        report.wall_seconds = time.monotonic() - started if started is not None else 0.0
        with client._lock:
            for (topic, _), count in client.counts.items():
                if count > 1:
                    report.duplicates[topic] = report.duplicates.get(topic, 0) + count - 1
        report.complete = report.frames > 0 and not report.failed
        writer.set_custom_data(REPLAY_KEY, report.to_json())


def _restamped(msg: Any, stamp_ns: int) -> Any:
    """A copy of a rosbags message with its header stamp set to ``stamp_ns``."""
    import dataclasses

    sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
    header = dataclasses.replace(msg.header, stamp=dataclasses.replace(msg.header.stamp, sec=sec, nanosec=nanosec))
    return dataclasses.replace(msg, header=header)


# ------------------------------------------------------------------------------ comparison


def compare_output_bags(offline_bag: str | Path, graph_bag: str | Path, tolerance: float = 1e-4) -> dict[str, Any]:
    """Outputs of two replays of the same bag compared: message counts per output topic, and the
    detections of every frame (boxes, visible boxes, scores, embeddings) up to ``tolerance``."""
    import numpy as np

    def load(path):
        counts: Counter = Counter()
        detections = {}
        with BagReader(path) as reader:
            for topic in OUTPUT_TOPICS.values():
                if topic not in reader.topics:
                    continue
                for _, msg in reader.read(topic):
                    counts[topic] += 1
                    if topic == OUTPUT_TOPICS["detections"]:
                        header, dets = convert.detections_from_msg(msg)
                        detections[(header.stamp_ns, header.frame_id)] = dets
        return counts, detections

    counts_a, dets_a = load(offline_bag)
    counts_b, dets_b = load(graph_bag)
    max_difference = 0.0
    equal = set(dets_a) == set(dets_b)
    for key in set(dets_a) & set(dets_b):
        a, b = dets_a[key], dets_b[key]
        if len(a) != len(b) or a.embeddings.shape != b.embeddings.shape:
            equal = False
            continue
        for x, y in ((a.boxes, b.boxes), (a.visible_boxes, b.visible_boxes), (a.scores, b.scores),
                     (a.embeddings, b.embeddings)):
            difference = np.abs(x.astype(np.float64) - y)
            if np.isfinite(difference).any():
                max_difference = max(max_difference, float(np.nanmax(difference)))
                equal &= bool(np.allclose(x, y, rtol=0.0, atol=tolerance, equal_nan=True))
    return {"offline_counts": dict(counts_a), "graph_counts": dict(counts_b), "counts_equal": counts_a == counts_b,
            "frames_compared": len(set(dets_a) & set(dets_b)), "detections_equal": equal,
            "max_difference": max_difference, "tolerance": tolerance}


# ------------------------------------------------------------------------------ results


def results_markdown(graph_report: GraphReplayReport, offline: Any, comparison: Mapping[str, Any]) -> str:
    """The graph's end-to-end FPS next to the offline replay's on the same bag, for ``docs/RESULTS.md``."""
    from ..utils.results import markdown_table

    rows = [
        ["offline replay (one process, frame-locked)", offline.frames, offline.processed, offline.fps],
        ["ROS 2 graph over DDS (4 node processes, lock-step player)", graph_report.frames, graph_report.processed,
         graph_report.fps],
    ]
    lines = [
        markdown_table(["replay", "frames", "processed", "FPS end to end"], rows),
        "",
        f"Graph start-up (node processes started -> every topic matched, models loaded): "
        f"{graph_report.startup_seconds:.1f} s, not included in the graph's FPS. Transport: Fast DDS shared memory "
        f"(rmw_fastrtps_cpp, ROS 2 Kilted wheels). The graph's FPS is the lock-step rate: each image is published "
        f"only after all outputs of the previous one were recorded, so it includes every hop's latency and "
        f"no pipelining across frames. 1-minute load average {os.getloadavg()[0]:.1f} when it finished.",
        "",
        f"Same bag, both replays: identical message counts per output topic: {comparison['counts_equal']}; "
        f"detections identical up to {comparison['tolerance']:g}: {comparison['detections_equal']} "
        f"(largest difference {comparison['max_difference']:.3g}); shutdown by SIGINT clean: "
        f"{graph_report.clean_shutdown}.",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ command line


def run_replay_command(args: Any) -> int:
    """``crowd-perception replay --graph [--results]`` (arguments of ``replay``)."""
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    try:
        import rclpy  # noqa: F401

        from crowd_perception.msg import DetectionArray  # noqa: F401
    except ImportError as exc:
        raise GraphError(f"replay --graph needs rclpy and the generated crowd_perception.msg (a sourced ROS 2 "
                         f"workspace, or scripts/setup.sh for the pip wheels): {exc}") from exc
    report = replay_graph(args.bag, args.out, config=args.config, stages=stages, backend=args.backend,
                          namespace=args.namespace, image_topic=args.image_topic,
                          camera_info_topic=args.camera_info_topic, storage=args.storage)
    print(report.summary())
    for index, reason in report.failed:
        print(f"  frame {index} failed: {reason}")
    if args.results:
        import tempfile

        from ..pipeline import Pipeline
        from ..utils.results import update_results_section
        from .replay import replay_bag

        pipeline = Pipeline.from_config(args.config, stages, backend=args.backend, namespace=args.namespace)
        with tempfile.TemporaryDirectory() as tmp:
            offline = replay_bag(args.bag, Path(tmp) / "offline", pipeline, image_topic=args.image_topic,
                                 camera_info_topic=args.camera_info_topic, storage=args.storage)
            comparison = compare_output_bags(Path(tmp) / "offline", args.out)
        print(f"offline replay of the same bag: {offline.summary()}")
        print(f"same counts: {comparison['counts_equal']}, same detections: {comparison['detections_equal']}")
        title = "ROS 2 graph over DDS vs offline replay: end-to-end FPS on the same bag (CPU)"
        print(f"results: {update_results_section('ros2-graph', title, results_markdown(report, offline, comparison))}")
        if not (comparison["counts_equal"] and comparison["detections_equal"]):
            return 1
    return 0 if report.ok else 1
