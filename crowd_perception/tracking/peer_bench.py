"""Our tracker and its peers (:mod:`crowd_perception.tracking.peers`) on identical detection streams.

- :func:`peer_times`: per-frame CPU time of each tracker's own update call on the speed benchmark's
  stream (:func:`~crowd_perception.tracking.bench.crowd_stream`), the repeats interleaved across the
  trackers so that a burst of load on the shared machine hits all of them alike;
- :func:`peer_reports`: one TrackEval report per tracker on the same ground-truth sequences and the
  same perturbation-model (or detector) detections
  (:func:`~crowd_perception.tracking.ablation.evaluate_trackers`);
- :func:`render`: the RESULTS section body, ratios to ours and the verdict on the goals computed
  from the measured figures.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..eval.tracking import TrackingReport
from ..utils.results import markdown_table
from .ablation import GroundTruthSequence, evaluate_trackers
from .bench import TimingResult, crowd_stream, time_steps
from .config import TrackerConfig
from .peers import build
from .perturbation import PerturbationConfig

__all__ = ["OURS", "peer_times", "peer_reports", "render"]

OURS = "ours"
STREAM_FPS = 30.0  # the simulated crowd's frame rate
METRICS = ("HOTA", "IDF1", "MOTA", "IDSW")


def peer_times(
    names: Sequence[str],
    config: TrackerConfig,
    people: Sequence[int],
    frames: int = 300,
    warmup: int = 30,
    repeats: int = 3,
    seed: int = 0,
) -> dict[tuple[str, int], TimingResult]:
    """The run with the lowest median CPU time of each ``(tracker, people)``; inputs are converted
    to each tracker's type before the clock starts, so only its update call is timed."""
    best: dict[tuple[str, int], TimingResult] = {}
    for n in people:
        stream = crowd_stream(n, frames + warmup, seed)
        mean_detections = float(np.mean([len(d) for d, _ in stream[warmup:]]))
        for _ in range(repeats):
            for name in names:
                adapter = build(name, config, STREAM_FPS)
                inputs = [adapter.prepare(d, stamp) for d, stamp in stream]
                run = time_steps(adapter.step, inputs, n, mean_detections, warmup)
                if (name, n) not in best or run.cpu_median_ms < best[name, n].cpu_median_ms:
                    best[name, n] = run
    return best


def peer_reports(
    names: Sequence[str], config: TrackerConfig, sequences: list[GroundTruthSequence], seed: int = 0
) -> dict[str, TrackingReport]:
    """TrackEval report of each tracker, each run at the sequence's frame rate on the same detections."""
    factories = {name: (lambda seq, name=name: build(name, config, seq.frame_rate)) for name in names}
    return evaluate_trackers(sequences, factories, "nominal", PerturbationConfig(), seed)


def _ratio(value: float, ours: float) -> float:
    return value / ours if ours > 0 else float("nan")


def render(
    names: Sequence[str],
    times: dict[tuple[str, int], TimingResult],
    reports: dict[str, TrackingReport],
    people: Sequence[int],
) -> tuple[str, str]:
    """The speed table, the accuracy table and the verdict on the goals (faster than every peer at
    every size, HOTA at least every peer's), as ``(tables, verdict)`` markdown."""
    speed_rows = []
    slower_than = []
    for n in people:
        ours = times[OURS, n]
        for name in names:
            r = times[name, n]
            median_ratio, p99_ratio = _ratio(r.cpu_median_ms, ours.cpu_median_ms), _ratio(r.cpu_p99_ms, ours.cpu_p99_ms)
            speed_rows.append(
                [n, round(r.mean_detections, 1), name, r.cpu_median_ms, r.cpu_p99_ms, median_ratio, p99_ratio]
            )
            if name != OURS and median_ratio <= 1.0:
                slower_than.append(f"{name} at {n} people ({median_ratio:.2f}x)")
    accuracy_rows = [[name, *(reports[name].combined[m] for m in METRICS)] for name in names]
    ours_hota = reports[OURS].combined["HOTA"]
    better_hota = [
        f"{name} ({reports[name].combined['HOTA']:.3f})"
        for name in names
        if name != OURS and reports[name].combined["HOTA"] > ours_hota
    ]
    tables = (
        markdown_table(
            ["people", "detections/frame", "tracker", "CPU median ms", "CPU p99 ms", "median / ours", "p99 / ours"],
            speed_rows,
        )
        + "\n\n"
        + markdown_table(["tracker", *METRICS], accuracy_rows)
    )
    peers = [name for name in names if name != OURS]
    verdict = (
        "Faster than every peer at every size (median CPU time): "
        + ("yes" if not slower_than else "no, not faster than " + ", ".join(slower_than))
        + f". HOTA at least every peer's ({ours_hota:.3f}): "
        + ("yes" if not better_hota else "no, higher: " + ", ".join(better_hota))
        + f" (peers run: {', '.join(peers) or 'none'})."
    )
    return tables, verdict
