"""What every crowd_perception node shares: parameters -> config dataclass, QoS from parameters
with incompatible-QoS warnings, input decoding with counted rejections, live mode (newest input
only, drops counted), diagnostics, and publishing with the input's header.

A node subclass names its config dataclass (``CONFIG``) and stage class (``STAGE``), subscribes
with :meth:`StageNode.on_input` (one message is one unit of work) or :meth:`StageNode.on_synced`
(units are stamp-matched groups, ``self.sync``), and implements ``process(unit)``.
"""

from __future__ import annotations

import time
from typing import Any

from diagnostic_msgs.msg import DiagnosticStatus

try:
    from diagnostic_updater import Updater
except ImportError:  # the ROS 2 wheels of the package index have no diagnostic_updater
    from .diagnostics import Updater
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, ParameterType, SetParametersResult
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

try:  # Iron and later
    from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
except ImportError:  # Humble
    from rclpy.qos_event import PublisherEventCallbacks, SubscriptionEventCallbacks

from ...core.types import Header
from ...pipeline.params import ParameterError, ParamSpec, config_from_params, param_specs
from ...pipeline.stages import MIN_BOX_SIDE, ModelNodeConfig, NodeConfig, build_runner, model_path, runner_identity
from .. import convert
from ..kit import MessageKit, RclpyKit
from ..stats import StageStats
from ..sync import LatestSlot, StampSync

__all__ = ["StageNode", "descriptor", "exit_node_process", "run_node"]

_TYPES = {bool: ParameterType.PARAMETER_BOOL, int: ParameterType.PARAMETER_INTEGER,
          float: ParameterType.PARAMETER_DOUBLE, str: ParameterType.PARAMETER_STRING}
_WORKER_PERIOD_S = 0.002
THROTTLE_S = 5.0


def descriptor(spec: ParamSpec) -> ParameterDescriptor:
    """The rclpy descriptor of a declared parameter (description, range, read-only unless dynamic)."""
    d = ParameterDescriptor(name=spec.name, type=_TYPES[spec.type], description=spec.describe(),
                            read_only=not spec.dynamic)
    # a ROS range has both ends; a one-sided bound is still enforced by ParamSpec.check
    if spec.low is not None and spec.high is not None and spec.type is float:
        d.floating_point_range = [FloatingPointRange(from_value=float(spec.low), to_value=float(spec.high), step=0.0)]
    elif spec.low is not None and spec.high is not None and spec.type is int:
        d.integer_range = [IntegerRange(from_value=int(spec.low), to_value=int(spec.high), step=1)]
    if spec.choices:
        d.additional_constraints = "one of: " + ", ".join(spec.choices)
    return d


class StageNode(Node):
    """Base class of the four nodes (and the visualizer)."""

    CONFIG: type[NodeConfig] = NodeConfig
    config: NodeConfig  # an instance of CONFIG (subclasses narrow both)
    STAGE: type = object
    STAGE_NAME = "stage"
    PRIMARY = "image"  # the stamp-matched stream whose messages count as received inputs

    def __init__(self, node_name: str, *, kit: MessageKit | None = None, runner: Any = None, **node_kwargs: Any):
        super().__init__(node_name, **node_kwargs)
        self.kit = kit or RclpyKit()
        self.specs = {spec.name: spec for spec in param_specs(self.CONFIG)}
        values: dict[str, Any] = {}
        for spec in self.specs.values():
            self.declare_parameter(spec.name, spec.default, descriptor(spec))
            values[spec.name] = self.get_parameter(spec.name).value
        self.config = config_from_params(self.CONFIG, values)  # ParameterError: clear failure at start
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.stats = StageStats()
        self.slot: LatestSlot = LatestSlot()
        self.sync: StampSync | None = None
        self.input_group = MutuallyExclusiveCallbackGroup()  # input callbacks one at a time (sync state)
        self.stage = self.make_stage(runner)
        self.diagnostics = Updater(self, period=self.config.diagnostics_period_s)
        self.diagnostics.setHardwareID(runner_identity(self.runner))
        self.diagnostics.add(self.STAGE_NAME, self._diagnose)  # the updater prefixes the node name
        self._reported = (0, 0, 0, 0)
        self.create_timer(_WORKER_PERIOD_S, self._work, callback_group=MutuallyExclusiveCallbackGroup())

    # --------------------------------------------------------------- subclass interface
    def make_stage(self, runner: Any) -> Any:
        """The stage with ``runner``, or with the runner the config asks for (model loaded once)."""
        return self.STAGE(self.config, runner if runner is not None else build_runner(self.config))

    @property
    def runner(self) -> Any:
        return self.stage.runner

    def process(self, unit: Any) -> None:
        raise NotImplementedError

    # --------------------------------------------------------------- parameters
    def _on_set_parameters(self, parameters: list) -> SetParametersResult:
        ours = {p.name: p.value for p in parameters if p.name in self.specs}
        if not ours:  # e.g. use_sim_time, or the diagnostic updater declaring its period
            return SetParametersResult(successful=True, reason="")
        fixed = [name for name in ours if not self.specs[name].dynamic]
        if fixed:
            return SetParametersResult(successful=False, reason=f"{', '.join(fixed)} can only be set at start-up")
        try:
            config = config_from_params(self.CONFIG, ours, base=self.config)
        except ParameterError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        self.config = config
        self.stage.reconfigure(config)
        self.get_logger().info(f"parameters changed: {ours}")
        return SetParametersResult(successful=True, reason="")

    # --------------------------------------------------------------- QoS and entities
    def qos(self, direction: str) -> QoSProfile:
        """QoS of ``direction`` ("input" / "output") from the qos_* parameters."""
        reliable = getattr(self.config, f"qos_{direction}_reliability") == "reliable"
        return QoSProfile(
            depth=getattr(self.config, f"qos_{direction}_depth"),
            reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
            history=HistoryPolicy.KEEP_LAST,
            durability=DurabilityPolicy.VOLATILE,
        )

    def _incompatible(self, topic: str, role: str):
        def warn(event: Any) -> None:
            policy = getattr(event, "last_policy_kind", "?")
            self.get_logger().warning(
                f"{role} {topic}: incompatible QoS with a peer (policy {policy}); check the qos_* parameters",
                throttle_duration_sec=THROTTLE_S,
            )

        return warn

    def subscribe(self, typename: str, topic: str, callback: Any, direction: str = "input") -> Any:
        events = SubscriptionEventCallbacks(incompatible_qos=self._incompatible(topic, "subscription"))
        return self.create_subscription(self.kit.make_class(typename), topic, callback, self.qos(direction),
                                        event_callbacks=events, callback_group=self.input_group)

    def advertise(self, typename: str, topic: str) -> Any:
        events = PublisherEventCallbacks(incompatible_qos=self._incompatible(topic, "publisher"))
        return self.create_publisher(self.kit.make_class(typename), topic, self.qos("output"),
                                     event_callbacks=events)

    # --------------------------------------------------------------- flow
    def now_ns(self) -> int:
        return int(self.get_clock().now().nanoseconds)

    def on_input(self, msg: Any) -> None:
        """Subscription callback of a single-input node."""
        self.stats.on_receive(self.now_ns())
        self.submit(msg)

    def on_synced(self, stream: str, msg: Any) -> None:
        """Subscription callback of a stamp-matched input; complete groups become units of work."""
        if stream == self.PRIMARY:
            self.stats.on_receive(self.now_ns())
        if self.sync is None:
            raise RuntimeError(f"{type(self).__name__} takes stamp-matched input but set no self.sync")
        for _, group in self.sync.add(stream, convert.header_from_msg(msg.header).stamp_ns, msg):
            self.submit(group)

    def submit(self, item: Any) -> None:
        """Live mode: keep only the newest item for the worker; otherwise process it now."""
        if self.config.live:
            self.slot.put(item)
        else:
            self._run(item)

    def _work(self) -> None:
        item = self.slot.take()
        if item is not None:
            self._run(item)

    def _run(self, item: Any) -> None:
        try:
            self.process(item)
        except Exception as exc:  # one bad frame must not kill a vehicle's node; counted and logged
            self.stats.errors += 1
            self.get_logger().error(f"{self.STAGE_NAME} failed: {type(exc).__name__}: {exc}",
                                    throttle_duration_sec=THROTTLE_S)

    def decode_image(self, msg: Any) -> Any:
        """BGR image of an Image / CompressedImage, or None (counted by reason, throttled error) when unusable.

        A node that gets None publishes its empty result with the input's header (one output per
        input: downstream stamp matching and the tracker's clock go on).
        """
        try:
            if hasattr(msg, "encoding"):
                return convert.image_from_msg(msg)
            return convert.compressed_image_from_msg(msg)
        except ValueError as exc:
            self.stats.on_reject(getattr(exc, "reason", "undecodable image"))
            self.get_logger().error(f"rejected image: {exc}", throttle_duration_sec=THROTTLE_S)
            return None

    def publish(self, publisher: Any, msg: Any, header: Header, started_ns: int) -> None:
        """Publish ``msg`` (its header already copied from the input) and account for it."""
        publisher.publish(msg)
        self.stats.on_publish(self.now_ns(), header.stamp_ns, time.perf_counter_ns() - started_ns)

    # --------------------------------------------------------------- diagnostics
    def _diagnose(self, stat: Any) -> Any:
        summary = self.stats.summary()
        dropped = self.dropped()
        current = (self.stats.errors, self.stats.rejected, dropped, self.stats.missing_camera_info)
        new_errors, new_rejected, new_drops, new_missing = (a - b for a, b in zip(current, self._reported, strict=True))
        self._reported = current
        if new_errors:
            stat.summary(DiagnosticStatus.ERROR, f"{new_errors} processing errors since the last report")
        elif new_rejected or new_drops or new_missing:
            stat.summary(DiagnosticStatus.WARN, f"{new_rejected} rejected, {new_drops} dropped, "
                                                f"{new_missing} without camera info since the last report")
        else:
            stat.summary(DiagnosticStatus.OK, "ok")
        for key, value in summary.items():
            stat.add(key, f"{value:.2f}" if isinstance(value, float) else value)
        stat.add("dropped", dropped)
        for reason, count in sorted(self.stats.rejected_by_reason.items()):
            stat.add(f"rejected: {reason}", count)
        for reason, count in sorted((getattr(self.stage, "flagged", None) or {}).items()):
            stat.add(f"no people: {reason}", count)  # the image-health check
        if hasattr(self.stage, "non_finite"):
            stat.add("non-finite outputs (frame's result dropped)", self.stage.non_finite)
        if hasattr(self.stage, "unposed"):
            stat.add("people beyond max_people (not posed)", self.stage.unposed)
        if hasattr(self.stage, "too_small"):
            stat.add(f"boxes under {MIN_BOX_SIDE:g} px dropped", self.stage.too_small)
        if hasattr(self.runner, "overflow_detections"):  # the tracker's per-frame cap
            stat.add("detections beyond max_detections (not tracked)", self.runner.overflow_detections)
        stat.add("live", self.config.live)
        stat.add("runner", runner_identity(self.runner))
        if isinstance(self.config, ModelNodeConfig):
            stat.add("model", str(model_path(self.config)))
        return stat

    def dropped(self) -> int:
        """Inputs skipped: overwritten in live mode, and unmatched or late in stamp matching."""
        matched = self.sync.dropped + self.sync.late if self.sync is not None else 0
        return self.slot.dropped + matched


def run_node(node_cls: type, args: list[str] | None = None) -> int:
    """``main`` of a node executable: init, spin on a multi-threaded executor, clean shutdown.

    SIGINT (Ctrl-C, or ``ros2 launch`` stopping) and SIGTERM end the node with exit code 0: rclpy's
    signal handler shuts the context down, the spin returns (``KeyboardInterrupt`` or
    ``ExternalShutdownException``, depending on where the signal lands) and the node is destroyed.
    """
    import faulthandler
    import signal

    import rclpy
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor

    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 <pid>`: every thread's stack to stderr (a node that hangs)
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    rclpy.init(args=args)
    node = None
    try:
        node = node_cls()
        executor = MultiThreadedExecutor(num_threads=2)
        rclpy.spin(node, executor=executor)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return 0


def exit_node_process(code: int) -> None:
    """End a node executable's process once ``main`` has returned (rclpy already shut down).

    Skips the interpreter's teardown of the inference libraries, which is all that is left to do:
    the pose runner's ROI code imports torch, whose teardown took 2 to 12 s on a loaded 2-core
    machine, far beyond what ``ros2 launch`` waits for after SIGINT. Output is flushed first.
    """
    import os
    import sys

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(code)
