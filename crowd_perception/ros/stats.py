"""ROS-free counters and timings of one node stage, reported through ``diagnostic_updater``."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

__all__ = ["StageStats"]


@dataclass
class StageStats:
    """What a node saw and did; times are nanoseconds of the node's clock, passed in by the caller.

    ``latency`` is stamp -> publish (age of the image when its result left the node), which
    with sim time or a replayed bag is in the bag's clock.
    """

    window: int = 50
    received: int = 0
    published: int = 0
    rejected: int = 0  # undecodable input (bad encoding, corrupt data)
    rejected_by_reason: dict[str, int] = field(default_factory=dict)  # "truncated JPEG": 2, ...
    errors: int = 0  # exceptions while processing
    missing_camera_info: int = 0
    _received_at: deque = field(default_factory=deque)
    _published_at: deque = field(default_factory=deque)
    _latency_ms: deque = field(default_factory=deque)
    _processing_ms: deque = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def on_receive(self, now_ns: int) -> None:
        with self._lock:
            self.received += 1
            self._push(self._received_at, now_ns)

    def on_reject(self, reason: str) -> None:
        with self._lock:
            self.rejected += 1
            self.rejected_by_reason[reason] = self.rejected_by_reason.get(reason, 0) + 1

    def on_publish(self, now_ns: int, stamp_ns: int, processing_ns: int) -> None:
        with self._lock:
            self.published += 1
            self._push(self._published_at, now_ns)
            self._push(self._latency_ms, (now_ns - stamp_ns) * 1e-6)
            self._push(self._processing_ms, processing_ns * 1e-6)

    def _push(self, queue: deque, value: float) -> None:
        queue.append(value)
        while len(queue) > self.window:
            queue.popleft()

    @staticmethod
    def _rate(times: deque) -> float:
        if len(times) < 2 or times[-1] == times[0]:
            return 0.0
        return (len(times) - 1) / ((times[-1] - times[0]) * 1e-9)

    @staticmethod
    def _mean(values: deque) -> float:
        return sum(values) / len(values) if values else float("nan")

    def summary(self) -> dict[str, float | int]:
        """Key figures for the diagnostics: rates in Hz, times in ms (means over the window)."""
        with self._lock:
            return {
                "received": self.received,
                "published": self.published,
                "rejected": self.rejected,
                "errors": self.errors,
                "missing_camera_info": self.missing_camera_info,
                "input_rate_hz": self._rate(self._received_at),
                "output_rate_hz": self._rate(self._published_at),
                "latency_ms": self._mean(self._latency_ms),
                "processing_ms": self._mean(self._processing_ms),
            }
