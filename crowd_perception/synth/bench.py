"""Generation throughput on one CPU core: frames per second per crowd density at bench resolution.

The process is pinned to a single core (``os.sched_setaffinity``) and OpenCV to one thread, so
the figure is what one worker of a data loader delivers. Each density group of the ``bench``
preset is timed end to end (scene setup, rendering, ground truth, effects), and the ``demo``
preset's total generation time is measured against its 30 s budget.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ..utils.results import markdown_table
from .generator import generate
from .presets import get_preset

__all__ = ["ThroughputRow", "pin_to_one_core", "measure_throughput", "measure_demo", "results_markdown",
           "load_description"]


@dataclass(frozen=True)
class ThroughputRow:
    group: str
    width: int
    height: int
    frames: int
    mean_people: float
    seconds: float
    cpu_seconds: float

    @property
    def fps(self) -> float:
        return self.frames / self.seconds

    @property
    def cpu_fps(self) -> float:
        """Frames per second of this process's CPU time (what one free core would deliver)."""
        return self.frames / self.cpu_seconds


def pin_to_one_core() -> str:
    """Restrict this process (and OpenCV) to one CPU core; returns a description."""
    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}, cv2 threads 1"
    return "cv2 threads 1 (affinity not supported here)"


def measure_throughput(frames: int = 50, seed: int = 0, width: int | None = None,
                       height: int | None = None) -> list[ThroughputRow]:
    """Time ``frames`` frames of the first sequence of every ``bench`` density group."""
    config = get_preset("bench")
    if width and height:
        config = config.with_image_size(width, height)
    rows = []
    for group in config.sequences:
        single = replace(config, sequences=(replace(group, count=1, frames=frames),))
        people = []
        start, cpu = time.perf_counter(), time.process_time()
        for sample in generate(single, seed):
            people.append(len(sample.annotation.persons))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        cam = config.domain.camera
        rows.append(ThroughputRow(group.name, cam.width, cam.height, frames, float(np.mean(people)), seconds, cpu))
    return rows


def measure_demo(seed: int = 0) -> ThroughputRow:
    """Total time to generate the ``demo`` preset."""
    config = get_preset("demo")
    start, cpu = time.perf_counter(), time.process_time()
    people = [len(s.annotation.persons) for s in generate(config, seed)]
    cam = config.domain.camera
    return ThroughputRow("demo (whole preset)", cam.width, cam.height, len(people), float(np.mean(people)),
                         time.perf_counter() - start, time.process_time() - cpu)


def results_markdown(rows: list[ThroughputRow], pinning: str, load: str) -> str:
    table = markdown_table(
        ["sequence", "resolution", "frames", "people per frame (mean)", "wall s", "frames/s (wall)",
         "frames/s (CPU time)"],
        [[r.group, f"{r.width}x{r.height}", r.frames, r.mean_people, r.seconds, r.fps, r.cpu_fps] for r in rows],
    )
    return (
        f"Synthetic frame generation (scene, rendering, complete ground truth, camera effects), {pinning}. "
        "Goal: >= 30 frames/s at 960x540 with 40 people on one core; demo preset in < 30 s. "
        "`frames/s (wall)` is elapsed time on the pinned core, `frames/s (CPU time)` divides by the CPU "
        f"time this process got (the two differ when other jobs share the core). {load}\n\n" + table
    )


def load_description() -> str:
    """The 1-minute load average against the core count, so a reader can judge the wall-clock figures."""
    try:
        one, _, _ = os.getloadavg()
    except OSError:
        return ""
    return f"Load average when measured: {one:.1f} on {os.cpu_count()} cores."
