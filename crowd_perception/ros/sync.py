"""ROS-free message bookkeeping of the nodes: exact-stamp matching with a bounded cache, and the
newest-frame slot of live mode. Both count what they drop, for the diagnostics."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["StampSync", "LatestSlot"]

T = TypeVar("T")


@dataclass
class StampSync:
    """Groups messages of several streams by exact header stamp.

    A group is released (in stamp order) when every stream has delivered for its stamp; then all
    older pending groups are released too if they have the ``required`` streams (counted as
    ``incomplete``), else dropped. More than ``capacity`` pending stamps release or drop the
    oldest the same way; messages older than the last released stamp are ``late`` drops.

    A message of a required stream more than ``jump_back_ns`` older than the last released stamp
    is a jump of the clock (``ros2 bag play --loop``, a clock step), not a late message: the
    pending groups are dropped, the synchroniser starts afresh from that stamp and counts it in
    ``resets`` (the tracker then sees the earlier stamp and resets itself).
    """

    streams: Sequence[str]
    required: Sequence[str]
    capacity: int = 10
    jump_back_ns: int = 1_000_000_000
    dropped: int = 0
    incomplete: int = 0
    late: int = 0
    resets: int = 0
    _pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    _last_released: int | None = None

    def __post_init__(self) -> None:
        unknown = set(self.required) - set(self.streams)
        if unknown or not self.required:
            raise ValueError(f"required streams {sorted(self.required)} must be a non-empty subset of {self.streams}")
        if self.capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {self.capacity}")

    def add(self, stream: str, stamp_ns: int, item: Any) -> list[tuple[int, dict[str, Any]]]:
        """Store one message; returns the groups ready to process, oldest first."""
        if stream not in self.streams:
            raise KeyError(f"unknown stream {stream!r}; streams: {list(self.streams)}")
        if self._last_released is not None and stamp_ns <= self._last_released:
            if stream in self.required and self._last_released - stamp_ns > self.jump_back_ns:
                self.dropped += len(self._pending)
                self._pending.clear()
                self._last_released = None
                self.resets += 1
            else:
                self.late += 1
                return []
        self._pending.setdefault(stamp_ns, {})[stream] = item
        ready: list[tuple[int, dict[str, Any]]] = []
        if len(self._pending[stamp_ns]) == len(self.streams):
            ready = self._release_until(stamp_ns)
        while len(self._pending) > self.capacity:
            ready += self._release_until(min(self._pending))
        return ready

    def _release_until(self, stamp_ns: int) -> list[tuple[int, dict[str, Any]]]:
        out = []
        for stamp in sorted(s for s in self._pending if s <= stamp_ns):
            group = self._pending.pop(stamp)
            if not all(name in group for name in self.required):
                self.dropped += 1
                continue
            if len(group) < len(self.streams):
                self.incomplete += 1
            out.append((stamp, group))
        self._last_released = stamp_ns
        return out

    @property
    def pending(self) -> int:
        return len(self._pending)


@dataclass
class LatestSlot(Generic[T]):
    """Live mode: keeps only the newest message; every message replaced unprocessed is a drop.

    Thread-safe: subscription callbacks put while the worker takes.
    """

    dropped: int = 0
    _item: T | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def put(self, item: T) -> None:
        with self._lock:
            if self._item is not None:
                self.dropped += 1
            self._item = item

    def take(self) -> T | None:
        with self._lock:
            item, self._item = self._item, None
        return item
