"""The part of ``diagnostic_updater`` the nodes use, for ROS 2 environments that lack it.

``diagnostic_updater`` (ros/diagnostics) is pure Python over ``diagnostic_msgs``, but the ROS 2
wheels of the package index have no wheel of it, so :mod:`.base` falls back to this module when
it cannot be imported. It behaves like the real ``Updater`` in what the nodes and their users
see: the ``diagnostic_updater.period`` parameter, a ``diagnostic_msgs/DiagnosticArray`` on
``/diagnostics`` (depth 1, reliable) every period, statuses named ``"<node name>: <task>"`` with
the hardware id, an OK "Node starting up" status when a task is added, and ``force_update()``.
"""

from __future__ import annotations

import threading
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

__all__ = ["DiagnosticStatusWrapper", "Updater"]


class DiagnosticStatusWrapper(DiagnosticStatus):
    """A ``DiagnosticStatus`` with the helpers tasks fill it with (``summary``, ``add``)."""

    def summary(self, level: Any, message: str) -> None:
        self.level = level
        self.message = message

    def add(self, key: str, value: Any) -> None:
        self.values.append(KeyValue(key=str(key), value=str(value)))


class Updater:
    """Runs the added tasks every ``diagnostic_updater.period`` seconds and publishes their statuses."""

    def __init__(self, node: Any, period: float = 1.0) -> None:
        self.node = node
        self.publisher = node.create_publisher(DiagnosticArray, "/diagnostics", 1)
        self.period = node.declare_parameter("diagnostic_updater.period", period).value
        self.hwid = ""
        self.tasks: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.timer = node.create_timer(self.period, self.update)

    def setHardwareID(self, hwid: str) -> None:  # diagnostic_updater's name
        self.hwid = hwid

    def add(self, name: str, callback: Any) -> None:
        with self.lock:
            self.tasks.append((name, callback))
        starting = DiagnosticStatusWrapper(name=name, hardware_id=self.hwid)
        starting.summary(DiagnosticStatus.OK, "Node starting up")
        self._publish([starting])

    def update(self) -> None:
        statuses = []
        with self.lock:
            for name, callback in self.tasks:
                status = DiagnosticStatusWrapper(name=name, hardware_id=self.hwid)
                status.summary(DiagnosticStatus.ERROR, "No message was set")
                statuses.append(callback(status) or status)
        self._publish(statuses)

    force_update = update

    def _publish(self, statuses: list[DiagnosticStatus]) -> None:
        array = DiagnosticArray()
        array.header.stamp = self.node.get_clock().now().to_msg()
        for status in statuses:
            array.status.append(DiagnosticStatus(
                level=status.level, name=f"{self.node.get_name()}: {status.name}", message=status.message,
                hardware_id=status.hardware_id, values=list(status.values)))
        self.publisher.publish(array)
