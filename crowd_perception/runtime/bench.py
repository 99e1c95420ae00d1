"""Timing primitives and per-model workloads of the benchmarks: latency split, throughput, memory.

A runner's ``backend`` is wrapped in a :class:`StageClock` that timestamps each ``run`` call, so
one call of ``detect`` / ``estimate`` splits into *pre* (until the first inference starts),
*infer* (inside the backend) and *post* (the rest) without changing the runners. Peak memory is
the process's peak resident set (``VmHWM``), reset before each measurement where Linux allows.
"""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "StageClock",
    "StageSamples",
    "instrument",
    "measure",
    "reset_peak_rss",
    "peak_rss_mib",
    "scaling_boxes",
    "frame_boxes",
    "runner_call",
]

log = logging.getLogger(__name__)

STAGES = ("pre", "infer", "post", "total")


class StageClock:
    """Backend proxy that records ``(start, end)`` of every ``run`` and, optionally, the feeds."""

    def __init__(self, backend: Any, keep_feeds: bool = False) -> None:
        self.backend = backend
        self.calls: list[tuple[float, float]] = []
        self.keep_feeds = keep_feeds
        self.feeds: list[dict[str, np.ndarray]] = []

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.keep_feeds:
            self.feeds.append({k: np.array(v, copy=True) for k, v in feeds.items()})
        start = time.perf_counter()
        out = self.backend.run(feeds)
        self.calls.append((start, time.perf_counter()))
        return out

    def __getattr__(self, name: str) -> Any:  # input_names, output_names, name, metadata, ...
        return getattr(self.backend, name)


def instrument(runner: Any, keep_feeds: bool = False) -> StageClock:
    """Wrap ``runner.backend`` in a :class:`StageClock` (in place) and return the clock."""
    if not hasattr(runner, "backend"):
        raise TypeError(f"{type(runner).__name__} has no 'backend' attribute to time")
    backend = runner.backend.backend if isinstance(runner.backend, StageClock) else runner.backend
    runner.backend = StageClock(backend, keep_feeds)
    return runner.backend


@dataclass
class StageSamples:
    """Seconds per call for each stage; :meth:`summary` gives median / p99 in ms and throughput."""

    samples: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})

    def add(self, pre: float, infer: float, post: float) -> None:
        for stage, value in zip(STAGES, (pre, infer, post, pre + infer + post), strict=True):
            self.samples[stage].append(value)

    def __len__(self) -> int:
        return len(self.samples["total"])

    def summary(self) -> dict[str, float]:
        if not len(self):
            raise ValueError("no samples")
        out: dict[str, float] = {}
        for stage, values in self.samples.items():
            ms = np.asarray(values) * 1e3
            out[f"{stage}_median_ms"] = float(np.median(ms))
            out[f"{stage}_p99_ms"] = float(np.percentile(ms, 99))
        out["throughput_per_s"] = float(len(self) / np.sum(self.samples["total"]))
        return out


def measure(
    calls: Sequence[Callable[[], Any]], clock: StageClock | Sequence[StageClock] | None, warmup: int = 1
) -> StageSamples:
    """Time each of ``calls`` (after ``warmup`` untimed ones) split by the clock(s) into pre/infer/post.

    *infer* is the time inside any clocked backend, *pre* the time before the first inference starts,
    *post* the rest. Without a clock (a stage that runs no network, e.g. the tracker) everything
    counts as *post*.
    """
    clocks = [] if clock is None else [clock] if isinstance(clock, StageClock) else list(clock)
    for call in calls[:warmup]:
        call()
    samples = StageSamples()
    for call in calls[warmup:] if len(calls) > warmup else calls:
        for c in clocks:
            c.calls.clear()
        start = time.perf_counter()
        call()
        total = time.perf_counter() - start
        spans = [span for c in clocks for span in c.calls]
        if not spans:
            samples.add(0.0, 0.0, total)
            continue
        pre = min(begin for begin, _ in spans) - start
        infer = sum(end - begin for begin, end in spans)
        samples.add(pre, infer, max(total - pre - infer, 0.0))
    return samples


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter of this process (Linux ``clear_refs`` 5); False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mib() -> float:
    """Peak resident set of this process in MiB (since the last successful :func:`reset_peak_rss`)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def scaling_boxes(count: int, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` plausible pedestrian boxes (aspect ~0.4, 40..60% of the height) inside the image."""
    heights = rng.uniform(0.15, 0.6, count) * height
    widths = heights * rng.uniform(0.35, 0.45, count)
    x0 = rng.uniform(0, np.maximum(width - widths, 1))
    y0 = rng.uniform(0, np.maximum(height - heights, 1))
    return np.stack([x0, y0, x0 + widths, y0 + heights], axis=1).astype(np.float32)


def frame_boxes(annotation: Any, min_visible: float = 0.2) -> np.ndarray:
    """Ground-truth boxes of the people visible enough to be detected, clipped to the image."""
    persons = annotation.persons
    boxes = np.asarray(persons.boxes, np.float32).reshape(-1, 4).copy()
    if persons.visible_fractions is not None:
        boxes = boxes[np.asarray(persons.visible_fractions) >= min_visible]
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, annotation.width)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, annotation.height)
    return boxes[(boxes[:, 2] - boxes[:, 0] > 2) & (boxes[:, 3] - boxes[:, 1] > 2)]


def runner_call(name: str, runner: Any, sample: Any) -> Any:
    """A no-argument call running model ``name``'s runner on one synthetic sample."""
    image, annotation = sample.image, sample.annotation
    if name == "detector":
        return lambda: runner.detect(image)
    if name == "pose2d":
        boxes = frame_boxes(annotation)
        return lambda: runner.estimate(image, boxes)
    if name == "pose3d":
        return lambda: runner.estimate(image, annotation.camera)
    raise KeyError(name)
