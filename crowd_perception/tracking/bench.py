"""Speed and memory of the tracker on simulated crowds (no images, no detector).

- :func:`association_times`: CPU time (of the calling thread: robust on a shared machine) and
  wall time of ``Tracker.update`` per frame (Kalman predict/update,
  cost matrices, gating, assignment, track bookkeeping) with ``num_people`` simultaneous people,
  detections from the perturbation model; the first ``warmup`` frames are not timed.
- :func:`memory_profile`: the bytes the tracker holds (:func:`tracker_bytes`) and the process's
  resident set size, sampled along a long stream with identity churn, so that tracks are created
  and removed all the time; embeddings come from a fixed table so that the stream itself
  allocates nothing that grows. (``tracemalloc`` would be exact for the heap but makes a
  100,000-frame run many times slower.)
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.types import Detections
from .config import TrackerConfig
from .perturbation import DetectionPerturbation
from .pool import TrackPool
from .simulation import simulate_crowd
from .tracker import Tracker

__all__ = [
    "TimingResult",
    "MemorySample",
    "crowd_stream",
    "time_steps",
    "association_times",
    "memory_profile",
    "tracker_bytes",
]


@dataclass(frozen=True)
class TimingResult:
    """Per-frame update time in ms: CPU time of the calling thread and wall-clock time."""

    people: int
    frames: int
    mean_detections: float
    cpu_median_ms: float
    cpu_p99_ms: float
    wall_median_ms: float
    wall_p99_ms: float


def crowd_stream(num_people: int, frames: int, seed: int = 0) -> list[tuple[Detections, int]]:
    """The benchmark's input: perturbation-model detections of a simulated 3840x2160 crowd, with stamps."""
    perturb = DetectionPerturbation(seed=seed)
    return [
        (perturb(f.boxes, f.ids, f.visible_fractions, f.width, f.height)[0], f.stamp_ns)
        for f in simulate_crowd(num_people, frames, seed=seed, width=3840, height=2160, occlusion=False)
    ]


def time_steps(
    step: Callable[[Any], Any], inputs: Sequence[Any], num_people: int, mean_detections: float, warmup: int = 30
) -> TimingResult:
    """Median and 99th percentile of the time of ``step`` on each input after the first ``warmup``."""
    cpu, wall = [], []
    gc.collect()
    for i, item in enumerate(inputs):
        start_cpu, start_wall = time.thread_time_ns(), time.perf_counter_ns()
        step(item)
        if i >= warmup:
            cpu.append(time.thread_time_ns() - start_cpu)
            wall.append(time.perf_counter_ns() - start_wall)
    cpu_ms, wall_ms = np.array(cpu) * 1e-6, np.array(wall) * 1e-6
    return TimingResult(
        num_people,
        len(cpu),
        mean_detections,
        float(np.median(cpu_ms)),
        float(np.percentile(cpu_ms, 99)),
        float(np.median(wall_ms)),
        float(np.percentile(wall_ms, 99)),
    )


def association_times(
    config: TrackerConfig, num_people: int, frames: int = 300, warmup: int = 30, seed: int = 0
) -> TimingResult:
    """Median and 99th percentile of the per-frame update time."""
    stream = crowd_stream(num_people, frames + warmup, seed)
    tracker = Tracker(config)
    mean_detections = float(np.mean([len(d) for d, _ in stream[warmup:]]))
    return time_steps(lambda item: tracker.update(*item), stream, num_people, mean_detections, warmup)


def memory_profile(
    config: TrackerConfig,
    frames: int = 100_000,
    num_people: int = 10,
    samples: int = 10,
    seed: int = 0,
    embedding_dim: int = 128,
) -> list[MemorySample]:
    """Memory at ``samples`` evenly spaced frames of a churning stream (mean lifetime 5 s)."""
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(1024, embedding_dim))
    table /= np.linalg.norm(table, axis=1, keepdims=True)
    tracker = Tracker(config)
    marks = set(np.linspace(frames // samples, frames, samples).astype(int) - 1)
    out = []
    for i, f in enumerate(simulate_crowd(num_people, frames, seed=seed, mean_lifetime_s=5.0, occlusion=False)):
        emb = table[f.ids % len(table)]
        tracks = tracker.update(Detections(f.boxes, np.full(len(f.ids), 0.9), embeddings=emb), f.stamp_ns)
        if i in marks:
            gc.collect()
            out.append(MemorySample(i + 1, tracker_bytes(tracker), _rss_bytes(), len(tracks), len(tracker.removed_ids)))
    return out


@dataclass(frozen=True)
class MemorySample:
    frame: int
    tracker_bytes: int  # what the tracker instance holds (arrays and lists), see tracker_bytes
    rss_bytes: int  # resident set size of the whole process (0 where /proc is missing)
    live_tracks: int
    removed_ids: int


def tracker_bytes(tracker: Tracker) -> int:
    """Bytes held by a tracker: its track arrays plus the removed-id list (lists count their items)."""
    pool_bytes = sum(getattr(tracker.pool, name).nbytes for name in TrackPool.FIELDS) if tracker.pool else 0
    removed = sys.getsizeof(tracker.removed_ids) + sum(sys.getsizeof(i) for i in tracker.removed_ids)
    return pool_bytes + removed


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0
