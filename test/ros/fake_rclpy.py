"""A small, faithful fake of the rclpy API the nodes use, so node classes are tested without ROS.

:func:`install` puts fake ``rclpy`` (``node``, ``qos``, ``event_handler``, ``callback_groups``,
``parameter``, ``executors``), ``rcl_interfaces.msg``, ``diagnostic_msgs.msg`` and
``diagnostic_updater`` modules into ``sys.modules`` (undone by ``monkeypatch``). Behaviour copied
from rclpy where tests depend on it: parameter overrides apply at declaration, read-only and
range-checked parameters are refused by ``set_parameters`` before the node's callbacks run, the
callbacks can refuse a change with a reason (and also run when a parameter is declared), and
publishers count their subscribers.
Test-only helpers: ``Subscription.deliver``, ``Timer.fire``, ``Publisher.messages``,
``FakeClock.advance``, ``Logger.records``.
"""

from __future__ import annotations

import enum
import sys
import types
from dataclasses import dataclass, field
from typing import Any

# --------------------------------------------------------------------------- rcl_interfaces.msg


class ParameterType:
    PARAMETER_NOT_SET = 0
    PARAMETER_BOOL = 1
    PARAMETER_INTEGER = 2
    PARAMETER_DOUBLE = 3
    PARAMETER_STRING = 4


@dataclass
class FloatingPointRange:
    from_value: float = 0.0
    to_value: float = 0.0
    step: float = 0.0


@dataclass
class IntegerRange:
    from_value: int = 0
    to_value: int = 0
    step: int = 0


@dataclass
class ParameterDescriptor:
    name: str = ""
    type: int = 0
    description: str = ""
    additional_constraints: str = ""
    read_only: bool = False
    dynamic_typing: bool = False
    floating_point_range: list = field(default_factory=list)
    integer_range: list = field(default_factory=list)


@dataclass
class SetParametersResult:
    successful: bool = False
    reason: str = ""


# ------------------------------------------------------------------------------ rclpy.parameter


class Parameter:
    class Type(enum.IntEnum):
        NOT_SET = 0
        BOOL = 1
        INTEGER = 2
        DOUBLE = 3
        STRING = 4

    def __init__(self, name: str, type_: Any = None, value: Any = None) -> None:
        if value is None and type_ is not None and not isinstance(type_, Parameter.Type):
            type_, value = None, type_  # Parameter(name, value) convenience of this fake
        self.name, self.value = name, value

    @property
    def type_(self) -> Parameter.Type:
        v = self.value
        if isinstance(v, bool):
            return Parameter.Type.BOOL
        if isinstance(v, int):
            return Parameter.Type.INTEGER
        if isinstance(v, float):
            return Parameter.Type.DOUBLE
        return Parameter.Type.STRING


# ------------------------------------------------------------------------------------ rclpy.qos


class ReliabilityPolicy(enum.IntEnum):
    SYSTEM_DEFAULT = 0
    RELIABLE = 1
    BEST_EFFORT = 2


class HistoryPolicy(enum.IntEnum):
    SYSTEM_DEFAULT = 0
    KEEP_LAST = 1
    KEEP_ALL = 2


class DurabilityPolicy(enum.IntEnum):
    SYSTEM_DEFAULT = 0
    TRANSIENT_LOCAL = 1
    VOLATILE = 2


@dataclass
class QoSProfile:
    depth: int = 10
    reliability: ReliabilityPolicy = ReliabilityPolicy.RELIABLE
    history: HistoryPolicy = HistoryPolicy.KEEP_LAST
    durability: DurabilityPolicy = DurabilityPolicy.VOLATILE


@dataclass
class SubscriptionEventCallbacks:
    incompatible_qos: Any = None


@dataclass
class PublisherEventCallbacks:
    incompatible_qos: Any = None


class MutuallyExclusiveCallbackGroup:
    pass


# ------------------------------------------------------------------------------ node internals


class FakeClock:
    def __init__(self, now_ns: int = 0) -> None:
        self.now_ns = now_ns

    def now(self) -> Any:
        return types.SimpleNamespace(nanoseconds=self.now_ns)

    def advance(self, seconds: float) -> None:
        self.now_ns += int(seconds * 1e9)


class Logger:
    def __init__(self) -> None:
        self.records: list[tuple[str, str]] = []
        self._last: dict[tuple[str, str], int] = {}
        self.clock: FakeClock | None = None

    def _log(self, level: str, msg: str, throttle_duration_sec: float | None = None, **_: Any) -> bool:
        if throttle_duration_sec and self.clock is not None:
            key = (level, msg.split(":")[0])
            last = self._last.get(key)
            if last is not None and self.clock.now_ns - last < throttle_duration_sec * 1e9:
                return False
            self._last[key] = self.clock.now_ns
        self.records.append((level, msg))
        return True

    def debug(self, msg: str, **kw: Any) -> bool:
        return self._log("debug", msg, **kw)

    def info(self, msg: str, **kw: Any) -> bool:
        return self._log("info", msg, **kw)

    def warning(self, msg: str, **kw: Any) -> bool:
        return self._log("warning", msg, **kw)

    warn = warning

    def error(self, msg: str, **kw: Any) -> bool:
        return self._log("error", msg, **kw)

    def messages(self, level: str) -> list[str]:
        return [m for lv, m in self.records if lv == level]


@dataclass
class Publisher:
    msg_type: Any
    topic: str
    qos: QoSProfile
    event_callbacks: PublisherEventCallbacks | None = None
    subscribers: int = 0
    messages: list = field(default_factory=list)

    def publish(self, msg: Any) -> None:
        self.messages.append(msg)

    def get_subscription_count(self) -> int:
        return self.subscribers


@dataclass
class Subscription:
    msg_type: Any
    topic: str
    callback: Any
    qos: QoSProfile
    event_callbacks: SubscriptionEventCallbacks | None = None
    callback_group: Any = None

    def deliver(self, msg: Any) -> None:
        self.callback(msg)


@dataclass
class Timer:
    period_s: float
    callback: Any
    callback_group: Any = None

    def fire(self) -> None:
        self.callback()


class Node:
    """The subset of ``rclpy.node.Node`` the crowd_perception nodes use."""

    def __init__(self, node_name: str, *, namespace: str = "", parameter_overrides: list | None = None,
                 **_: Any) -> None:
        self._name = node_name
        self._overrides = {p.name: p.value for p in parameter_overrides or []}
        self._parameters: dict[str, Parameter] = {}
        self._descriptors: dict[str, ParameterDescriptor] = {}
        self._set_callbacks: list = []
        self.clock = FakeClock()
        self.logger = Logger()
        self.logger.clock = self.clock
        self.publishers: dict[str, Publisher] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.timers: list[Timer] = []
        self.destroyed = False

    def get_name(self) -> str:
        return self._name

    def get_logger(self) -> Logger:
        return self.logger

    def get_clock(self) -> FakeClock:
        return self.clock

    # parameters
    def declare_parameter(self, name: str, value: Any = None, descriptor: ParameterDescriptor | None = None,
                          ignore_override: bool = False) -> Parameter:
        if name in self._parameters:
            raise RuntimeError(f"parameter {name} already declared")
        if not ignore_override and name in self._overrides:
            value = self._overrides[name]
        for callback in self._set_callbacks:  # rclpy runs the set-parameter callbacks on declaration too
            result = callback([Parameter(name, value)])
            if not result.successful:
                raise ValueError(f"InvalidParameterValueException: {name}: {result.reason}")
        self._parameters[name] = Parameter(name, value)
        self._descriptors[name] = descriptor or ParameterDescriptor()
        return self._parameters[name]

    def get_parameter(self, name: str) -> Parameter:
        if name not in self._parameters:
            raise KeyError(f"parameter {name} not declared")
        return self._parameters[name]

    def describe_parameter(self, name: str) -> ParameterDescriptor:
        return self._descriptors[name]

    def add_on_set_parameters_callback(self, callback: Any) -> None:
        self._set_callbacks.append(callback)

    def set_parameters(self, parameters: list[Parameter]) -> list[SetParametersResult]:
        results = []
        for p in parameters:
            result = self._check_descriptor(p)
            if result.successful:
                for callback in self._set_callbacks:
                    result = callback([p])
                    if not result.successful:
                        break
            if result.successful:
                self._parameters[p.name] = p
            results.append(result)
        return results

    def _check_descriptor(self, p: Parameter) -> SetParametersResult:
        d = self._descriptors.get(p.name)
        if d is None:
            return SetParametersResult(False, f"parameter {p.name} not declared")
        if d.read_only:
            return SetParametersResult(False, "Trying to set a read-only parameter: " + p.name)
        for r in d.floating_point_range + d.integer_range:
            if not r.from_value <= p.value <= r.to_value:
                return SetParametersResult(False, f"Parameter {p.name} out of range")
        return SetParametersResult(True)

    # entities
    def create_publisher(self, msg_type: Any, topic: str, qos: QoSProfile, *, event_callbacks=None,
                         **_: Any) -> Publisher:
        self.publishers[topic] = Publisher(msg_type, topic, qos, event_callbacks)
        return self.publishers[topic]

    def create_subscription(self, msg_type: Any, topic: str, callback: Any, qos: QoSProfile, *,
                            event_callbacks=None, callback_group=None, **_: Any) -> Subscription:
        self.subscriptions[topic] = Subscription(msg_type, topic, callback, qos, event_callbacks, callback_group)
        return self.subscriptions[topic]

    def create_timer(self, period_s: float, callback: Any, callback_group: Any = None) -> Timer:
        self.timers.append(Timer(period_s, callback, callback_group))
        return self.timers[-1]

    def destroy_node(self) -> None:
        self.destroyed = True


# --------------------------------------------------------------------------- diagnostics


class DiagnosticStatus:
    OK = b"\x00"
    WARN = b"\x01"
    ERROR = b"\x02"
    STALE = b"\x03"


class DiagnosticStatusWrapper:
    def __init__(self) -> None:
        self.level, self.message, self.values = DiagnosticStatus.OK, "", {}

    def summary(self, level: bytes, message: str) -> None:
        self.level, self.message = level, message

    def add(self, key: str, value: Any) -> None:
        self.values[key] = str(value)


class Updater:
    def __init__(self, node: Node, period: float = 1.0) -> None:
        self.node = node
        self.period = node.declare_parameter("diagnostic_updater.period", period).value
        self.hardware_id = ""
        self.tasks: list[tuple[str, Any]] = []

    def setHardwareID(self, hwid: str) -> None:  # the name diagnostic_updater uses
        self.hardware_id = hwid

    def add(self, name: str, callback: Any) -> None:
        self.tasks.append((name, callback))

    def force_update(self) -> dict[str, DiagnosticStatusWrapper]:
        """Runs every task; returns their statuses by name (the real one publishes /diagnostics)."""
        out = {}
        for name, callback in self.tasks:
            stat = DiagnosticStatusWrapper()
            out[f"{self.node.get_name()}: {name}"] = callback(stat) or stat  # named like the real updater
        return out


# ----------------------------------------------------------------------------------- install


def _module(name: str, **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


def install(monkeypatch: Any) -> None:
    """Install the fake modules for one test (``monkeypatch`` restores ``sys.modules``)."""
    spun: list = []
    modules = {
        "rclpy": _module("rclpy", init=lambda args=None: None, shutdown=lambda: None, ok=lambda: True,
                         spin=lambda node, executor=None: spun.append(node), spun=spun),
        "rclpy.node": _module("rclpy.node", Node=Node),
        "rclpy.qos": _module("rclpy.qos", QoSProfile=QoSProfile, ReliabilityPolicy=ReliabilityPolicy,
                             HistoryPolicy=HistoryPolicy, DurabilityPolicy=DurabilityPolicy),
        "rclpy.event_handler": _module("rclpy.event_handler", SubscriptionEventCallbacks=SubscriptionEventCallbacks,
                                       PublisherEventCallbacks=PublisherEventCallbacks),
        "rclpy.callback_groups": _module("rclpy.callback_groups",
                                         MutuallyExclusiveCallbackGroup=MutuallyExclusiveCallbackGroup),
        "rclpy.parameter": _module("rclpy.parameter", Parameter=Parameter),
        "rclpy.executors": _module("rclpy.executors", MultiThreadedExecutor=lambda num_threads=None: None,
                                   ExternalShutdownException=type("ExternalShutdownException", (Exception,), {})),
        "rcl_interfaces": _module("rcl_interfaces"),
        "rcl_interfaces.msg": _module("rcl_interfaces.msg", ParameterDescriptor=ParameterDescriptor,
                                      ParameterType=ParameterType, FloatingPointRange=FloatingPointRange,
                                      IntegerRange=IntegerRange, SetParametersResult=SetParametersResult),
        "diagnostic_msgs": _module("diagnostic_msgs"),
        "diagnostic_msgs.msg": _module("diagnostic_msgs.msg", DiagnosticStatus=DiagnosticStatus),
        "diagnostic_updater": _module("diagnostic_updater", Updater=Updater,
                                      DiagnosticStatusWrapper=DiagnosticStatusWrapper),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    for name in [n for n in sys.modules if n.startswith("crowd_perception.ros.nodes")]:
        monkeypatch.delitem(sys.modules, name)  # re-import the nodes against the fake
