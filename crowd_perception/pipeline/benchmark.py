"""The ``bench`` suite: each model and the full pipeline on synthetic ``bench`` frames, plus scaling curves.

Workloads: the detector on whole frames; the top-down pose estimator on each frame's ground-truth
boxes of visible people (so its cost does not depend on the detector's quality); the 3D regressor on
whole frames; the pipeline = detect -> 2D pose of the detections -> 3D pose -> track. Scaling:
the pose estimator with 1..80 boxes on one frame, and the 3D regressor on frames rendered with
1..80 people (single shot: should stay flat).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..models.registry import MODELS, load_runner
from ..runtime.bench import (
    StageClock,
    frame_boxes,
    instrument,
    measure,
    peak_rss_mib,
    reset_peak_rss,
    runner_call,
    scaling_boxes,
)
from ..utils.results import markdown_table
from .pipeline import MODEL_STAGES, Pipeline

__all__ = [
    "BenchConfig",
    "bench_samples",
    "run_benchmark",
    "render_markdown",
    "backend_name",
]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class BenchConfig:
    backend: str = "onnxruntime"
    threads: int = 1
    frames: int = 20
    warmup: int = 2
    people: tuple[int, ...] = (1, 5, 10, 20, 40, 80)
    scaling_repeats: int = 5
    models: tuple[str, ...] = tuple(MODELS)
    seed: int = 0
    variant: str = ""  # "" for the float models, "int8" for <name>.int8.onnx


def bench_samples(count: int, seed: int = 0, size: tuple[int, int] | None = None) -> list[Any]:
    """``count`` frames of the ``bench`` preset spread evenly over its density groups (sparse..very dense),
    rendered at ``size`` = ``(width, height)`` when given (the preset's 960x540 otherwise)."""
    from ..synth import generate, get_preset

    base = get_preset("bench")
    if size is not None:
        camera = dataclasses.replace(base.domain.camera, width=size[0], height=size[1])
        base = dataclasses.replace(base, domain=dataclasses.replace(base.domain, camera=camera))
    groups = base.sequences
    per_group = [count // len(groups) + (i < count % len(groups)) for i in range(len(groups))]
    samples: list[Any] = []
    for group, n in zip(groups, per_group, strict=True):
        if n:
            config = dataclasses.replace(base, sequences=(dataclasses.replace(group, count=1, frames=n),))
            samples += list(generate(config, seed=seed))
    return samples


def _summary(samples: Any, extra: dict[str, Any]) -> dict[str, Any]:
    return {**samples.summary(), **extra, "calls": len(samples)}


def bench_models(runners: dict[str, Any], samples: Sequence[Any], warmup: int) -> dict[str, Any]:
    results = {}
    for name, runner in runners.items():
        clock = instrument(runner)
        reset_peak_rss()
        stats = measure([runner_call(name, runner, s) for s in samples], clock, warmup)
        people = float(np.mean([len(frame_boxes(s.annotation)) for s in samples]))
        results[name] = _summary(stats, {"peak_rss_mib": peak_rss_mib(), "people_mean": people})
        log.info("%s: median %.1f ms", name, results[name]["total_median_ms"])
    return results


def bench_pipeline(pipeline: Pipeline, samples: Sequence[Any], warmup: int) -> dict[str, Any]:
    """:meth:`Pipeline.run` per frame (detect, 2D pose, 3D pose, track), new tracks for each sequence.

    The pipeline's stages apply the nodes' thresholds (published, posed and tracked detections).
    *infer* sums the three networks; *pre* is the detector's pre-processing; *post* is everything
    else (decoding, crops, readouts, tracking, pose attachment).
    """
    detector, pose2d = pipeline.detector, pipeline.pose2d
    if detector is None or pose2d is None:
        raise ValueError("the pipeline bench needs the detector and pose2d stages")
    counts: list[tuple[int, int]] = []
    clocks = [instrument(stage.runner) for stage in pipeline.model_stages()]
    sequence: list[str] = []

    def frame(sample: Any) -> Any:
        def call() -> Any:
            if sequence[-1:] != [sample.annotation.sequence]:
                pipeline.reset()
                sequence.append(sample.annotation.sequence)
            out = pipeline.run(sample.image, sample.annotation.stamp_ns, sample.annotation.camera)
            counts.append((len(out.detections or ()), len(out.poses_2d or ())))
            return out

        return call

    reset_peak_rss()
    stats = measure([frame(s) for s in samples], clocks, warmup)
    published, posed = np.mean(counts[warmup:], axis=0)
    thresholds = {"score_threshold": detector.config.score_threshold, "min_box_score": pose2d.config.min_box_score}
    return _summary(stats, {"peak_rss_mib": peak_rss_mib(), "detections_mean": float(published),
                            "posed_mean": float(posed), **thresholds})


def pipeline_of(runners: dict[str, Any]) -> Pipeline | None:
    """The nodes' pipeline (shipped params file) on these model runners, or None unless all three are given."""
    if not set(MODEL_STAGES) <= set(runners):
        return None
    return Pipeline.from_config(runners={stage: runners[stage] for stage in MODEL_STAGES})


def scaling_pose2d(runner: Any, image: np.ndarray, people: Sequence[int], repeats: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    clock = instrument(runner)
    rows = []
    for n in people:
        boxes = scaling_boxes(n, image.shape[1], image.shape[0], rng)
        stats = measure([partial(runner.estimate, image, boxes)] * (repeats + 1), clock, warmup=1)
        rows.append({"people": n, **stats.summary()})
    return rows


def scaling_pose3d(runner: Any, people: Sequence[int], repeats: int, seed: int) -> list[dict[str, Any]]:
    """3D regressor latency on frames rendered with ``n`` people in the scene for each ``n``."""
    from ..synth import generate, get_preset

    base = get_preset("bench")
    clock = instrument(runner)
    rows = []
    for n in people:
        group = dataclasses.replace(base.sequences[0], name=f"people{n}", count=1, frames=repeats + 1, people=(n, n))
        frames = list(generate(dataclasses.replace(base, sequences=(group,)), seed=seed))
        stats = measure([partial(runner.estimate, s.image, s.annotation.camera) for s in frames], clock, warmup=1)
        visible = float(np.mean([len(frame_boxes(s.annotation)) for s in frames[1:]]))
        rows.append({"people": n, "visible_people_mean": visible, **stats.summary()})
    return rows


def run_benchmark(config: BenchConfig, weights_dir: Path) -> dict[str, Any]:
    """Run the whole suite; models whose ONNX file is missing are skipped (listed in ``missing``)."""
    runners, missing = {}, []
    for name in config.models:
        path = MODELS[name].onnx(weights_dir, config.variant)
        if not path.is_file():
            missing.append(name)
            log.warning("skipping %s: %s not found (run `crowd-perception export` first)", name, path)
            continue
        runners[name] = load_runner(name, path, backend=config.backend, threads=config.threads)
    samples = bench_samples(config.frames + config.warmup, config.seed)
    result = bench_runners(runners, samples, config, missing)
    if "pose2d" in runners:
        result["scaling"]["pose2d"] = scaling_pose2d(runners["pose2d"], samples[0].image, config.people,
                                                     config.scaling_repeats, config.seed)
    if "pose3d" in runners:
        result["scaling"]["pose3d"] = scaling_pose3d(runners["pose3d"], config.people, config.scaling_repeats, config.seed)
    return result


def bench_runners(runners: dict[str, Any], samples: Sequence[Any], config: BenchConfig,
                  missing: Sequence[str] = ()) -> dict[str, Any]:
    """Each model and, when all three are loaded, the pipeline on ``samples``: the suite without its
    scaling curves (``scaling`` empty), shared by ``bench`` and ``gpu-check``."""
    result: dict[str, Any] = {
        "config": dataclasses.asdict(config),
        "load_average_1min": os.getloadavg()[0],  # other work on the machine inflates every figure
        "backends": {name: backend_name(r) for name, r in runners.items()},
        "missing": list(missing),
        "models": bench_models(runners, samples, config.warmup),
        "scaling": {},
    }
    pipeline = pipeline_of(runners)
    if pipeline is not None:
        result["pipeline"] = bench_pipeline(pipeline, samples, config.warmup)
    return result


def backend_name(runner: Any) -> str:
    """The name of the backend a runner really runs on (under a :class:`StageClock` too)."""
    backend = getattr(runner, "backend", None)
    if isinstance(backend, StageClock):
        backend = backend.backend
    return str(getattr(backend, "name", "?"))


def render_markdown(result: dict[str, Any]) -> str:
    """Tables for ``docs/RESULTS.md``: per-stage latency per model and pipeline, then the scaling curves."""
    cfg = result["config"]
    header = ["model", "backend", "pre ms (med/p99)", "infer ms (med/p99)", "post ms (med/p99)",
              "total ms (med/p99)", "per s", "peak RSS MiB"]

    def row(name: str, backend: str, s: dict[str, float]) -> list[object]:
        stages = [f"{s[f'{k}_median_ms']:.2f} / {s[f'{k}_p99_ms']:.2f}" for k in ("pre", "infer", "post", "total")]
        return [name, backend, *stages, s["throughput_per_s"], s["peak_rss_mib"]]

    rows = [row(n, result["backends"][n], s) for n, s in result["models"].items()]
    if "pipeline" in result:
        pipe = result["pipeline"]
        label = f"pipeline: det+2D+3D+track ({pipe['detections_mean']:.1f} det., {pipe['posed_mean']:.1f} posed /frame)"
        rows.append(row(label, "as above", pipe))
    text = [
        f"{cfg['frames']} synthetic `bench` frames (spread over its density groups) after {cfg['warmup']} warm-up, "
        f"{cfg['threads']} thread(s), "
        f"backend `{cfg['backend']}`, {cfg['variant'] or 'float'} models. "
        "Pose 2D alone runs on the frame's ground-truth visible boxes. "
        f"1-min load average when it started: {result.get('load_average_1min', float('nan')):.1f}.",
        "",
        markdown_table(header, rows),
    ]
    if "pipeline" in result:
        pipe = result["pipeline"]
        text += ["", "The pipeline is the nodes' (`Pipeline` with `config/crowd_perception.yaml`): detections scoring "
                 f">= {pipe['score_threshold']} are published and tracked, those >= {pipe['min_box_score']} posed."]
    if result["missing"]:
        text += ["", f"Not measured (no exported model): {', '.join(result['missing'])}."]
    scaling = result["scaling"]
    if scaling:
        people = sorted({r["people"] for rows_ in scaling.values() for r in rows_})
        by = {m: {r["people"]: r for r in rows_} for m, rows_ in scaling.items()}
        cols = ["people"] + [f"{m} total ms (med)" for m in scaling] + [f"{m} infer ms (med)" for m in scaling]
        table = [
            [n] + [by[m][n]["total_median_ms"] if n in by[m] else "" for m in scaling]
            + [by[m][n]["infer_median_ms"] if n in by[m] else "" for m in scaling]
            for n in people
        ]
        text += ["", "Latency vs number of people (pose2d: boxes in one frame; pose3d: people in the rendered scene):",
                 "", markdown_table(cols, table)]
    return "\n".join(text)
