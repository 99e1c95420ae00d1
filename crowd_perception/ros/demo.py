"""``crowd-perception demo``: synthetic demo bag -> frame-locked replay through the whole stack
with the shipped models on CPU -> all metrics -> annotated MP4 and a summary with end-to-end FPS."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from ..pipeline import Pipeline
from ..pipeline.stages import TrackerNodeConfig
from . import convert
from .bag import OUTPUT_TOPICS, BagReader, write_synthetic_bag
from .draw import draw_detections, draw_tracks
from .evaluate import BagEvaluation, evaluate_bag
from .replay import ReplayReport, replay_bag

__all__ = ["DemoResult", "results_markdown", "run_demo", "write_video"]


@dataclass
class DemoResult:
    input_bag: Path
    output_bag: Path
    video: Path
    summary: Path
    generation_seconds: float
    replay: ReplayReport
    evaluation: BagEvaluation


def write_video(bag: str | Path, path: str | Path, fps: float, min_detection_score: float) -> int:
    """Annotated MP4 of a replayed bag: detections at or above ``min_detection_score`` in gray, confirmed
    tracks with ids and skeletons."""
    writer = None
    count = 0
    try:
        with BagReader(bag) as reader:
            for frame in reader.frames():
                image = frame.image
                if image is None:  # an undecodable frame (counted by the replay): nothing to draw on
                    continue
                if OUTPUT_TOPICS["detections"] in frame.messages:
                    detections = convert.detections_from_msg(frame.messages[OUTPUT_TOPICS["detections"]])[1]
                    draw_detections(image, detections, min_detection_score)
                if OUTPUT_TOPICS["tracks"] in frame.messages:
                    draw_tracks(image, convert.tracks_from_msg(frame.messages[OUTPUT_TOPICS["tracks"]])[1])
                if writer is None:
                    height, width = image.shape[:2]
                    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
                    if not writer.isOpened():
                        raise OSError(f"cannot open an MP4 writer for {path} (OpenCV without an mp4v encoder?)")
                writer.write(image)
                count += 1
    finally:
        if writer is not None:
            writer.release()
    return count


OUTPUT_NAMES = ("demo_bag", "replayed_bag", "report", "demo.mp4", "summary.json")


def _clear_previous(out_dir: Path, overwrite: bool) -> None:
    """Remove a previous demo's outputs (only its own names) when ``overwrite``, else refuse."""
    existing = [out_dir / name for name in OUTPUT_NAMES if (out_dir / name).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]} exists; choose an empty --out folder (or overwrite)")
    for path in existing:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def run_demo(out_dir: str | Path, preset: str = "demo", seed: int = 0, backend: str = "onnxruntime",
             config: str | Path | None = None, max_frames: int | None = None,
             runners: dict[str, Any] | None = None, overwrite: bool = False) -> DemoResult:
    """Everything the README's main command does; ``runners`` replaces models (tests only).

    With ``overwrite`` a previous demo's outputs in ``out_dir`` are replaced (nothing else is touched).
    """
    from ..synth import generate, get_preset

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_previous(out_dir, overwrite)
    input_bag, output_bag = out_dir / "demo_bag", out_dir / "replayed_bag"
    pipeline = Pipeline.from_config(config, backend=backend, runners=runners)  # models load (or fail) first
    started = time.perf_counter()
    samples = generate(preset, seed=seed)
    if max_frames is not None:
        samples = itertools.islice(samples, max_frames)
    write_synthetic_bag(samples, input_bag)
    generation_seconds = time.perf_counter() - started
    report = replay_bag(input_bag, output_bag, pipeline)
    fps = get_preset(preset).fps
    evaluation = evaluate_bag(output_bag, out_dir=out_dir / "report", fps=fps)
    video = out_dir / "demo.mp4"
    confident = pipeline.tracker.config if pipeline.tracker is not None else TrackerNodeConfig()
    write_video(output_bag, video, fps, confident.detection_threshold)  # what the tracker's first stage keeps
    summary = out_dir / "summary.json"
    summary.write_text(json.dumps({
        "preset": preset,
        "seed": seed,
        "backend": backend,
        "frames": report.frames,
        "processed": report.processed,
        "failed": report.failed,
        "end_to_end_fps": report.fps,
        "stage_ms_per_frame": report.stage_ms(),
        "generation_seconds": generation_seconds,
        "metrics": json.loads(evaluation.to_json()),
        "video": str(video),
    }, indent=1), encoding="utf-8")
    return DemoResult(input_bag, output_bag, video, summary, generation_seconds, report, evaluation)


def results_markdown(result: DemoResult) -> str:
    """The demo's figures for ``docs/RESULTS.md`` (frame accounting, FPS, stage times, metrics)."""
    from ..utils.results import markdown_table

    replay = result.replay
    lines = [
        f"{replay.frames} frames, {replay.processed} processed, {len(replay.failed)} failed; "
        f"end-to-end {replay.fps:.2f} FPS (bag read + all stages + bag write, one process, CPU; "
        f"1-minute load average {os.getloadavg()[0]:.1f} when it finished).",
        "",
        markdown_table(["stage", "ms / frame"], [[k, v] for k, v in replay.stage_ms().items()]),
        "",
        "```",
        result.evaluation.table(),
        "```",
    ]
    return "\n".join(lines)
