"""``crowd-perception train detector``, ``evaluate detection`` and ``ablation detector``."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from dataclasses import replace
from pathlib import Path

from ...utils.commands import Command

__all__ = ["COMMANDS"]

_log = logging.getLogger(__name__)
WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"


def _train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--preset",
        default="synth-mobilenetv2",
        help="named config (synth-compact, synth-mobilenetv2, synth-resnet50, synth-darknet53, crowdhuman-resnet50, tiny)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field, e.g. --set train.steps=500 --set loss.assign.method=fcos",
    )
    p.add_argument(
        "--data",
        default="",
        metavar="SOURCES",
        help="train on a weighted mixture instead of the preset's data, e.g. "
        "synth:train_a@0.5,crowdhuman:/data/CrowdHuman/annotation_train.odgt@0.3,coco:/data/coco/person_keypoints_train2017.json@0.2",
    )
    p.add_argument("--out", type=Path, default=None, help="run folder (default runs/detector/<preset>)")
    p.add_argument("--resume", type=Path, default=None, help="training checkpoint to continue from")
    p.add_argument(
        "--export",
        type=Path,
        default=None,
        metavar="DIR",
        help="after training, write DIR/detector.{safetensors,config.json,onnx,json}",
    )


def _run_train(args: argparse.Namespace) -> int:
    from ...training.config import apply_overrides
    from .config import get_preset
    from .export import export_module, load_network
    from .train import train_detector

    cfg = apply_overrides(get_preset(args.preset), args.overrides)
    if args.data:
        cfg.data = replace(cfg.data, mix=args.data)
    out = args.out or Path("runs") / "detector" / args.preset
    result = train_detector(cfg, out, resume=args.resume)
    _log.info(
        "trained %d steps in %.1f min -> %s; last eval %s",
        result.steps,
        result.seconds / 60,
        result.weights,
        result.eval_metrics,
    )
    if args.export is not None and result.weights is not None:
        args.export.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(result.weights, args.export / "detector.safetensors")
        shutil.copyfile(result.weights.with_name("model.config.json"), args.export / "detector.config.json")
        model, full_cfg = load_network(result.weights)
        export_module(
            model,
            full_cfg,
            args.export / "detector.onnx",
            extra={
                "train_steps": result.steps,
                "train_minutes": round(result.seconds / 60, 1),
                "train_command": "crowd-perception " + " ".join(sys.argv[1:]),
            },
        )
    return 0


def _eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, default=WEIGHTS_DIR / "detector.onnx", help=".onnx or .safetensors")
    p.add_argument("--backend", default="onnxruntime", help="onnxruntime | tensorrt | auto | torch")
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    p.add_argument(
        "--data",
        default="synth:bench",
        help="synth:<preset> | crowdhuman:<odgt> | citypersons:<json|mat> | mot:<folder>",
    )
    p.add_argument("--subsets", default="all,reasonable,heavy", help="comma-separated: all, reasonable, heavy")
    p.add_argument("--max-frames", type=int, default=0)
    p.add_argument("--every", type=int, default=1, help="use every N-th frame")
    p.add_argument(
        "--frames-per-sequence", type=int, default=0, help="synthetic data: the first N frames of each sequence"
    )
    p.add_argument("--embeddings", action="store_true", help="also the embedding TPR@FAR=0.1 on ground-truth boxes")
    p.add_argument("--latency", type=int, default=0, metavar="N", help="also time N detect() calls")
    p.add_argument("--plots", type=Path, default=None, metavar="DIR", help="write MR-FPPI and PR plots")
    p.add_argument("--results", action="store_true", help="write the figures into docs/RESULTS.md")
    p.add_argument("--score-threshold", type=float, default=None)
    p.add_argument(
        "--operating-points",
        default="0.1,0.2,0.3,0.4,0.5",
        help="score thresholds at which to report detections, false positives per frame and recall "
        "(the detector node's default score_threshold is 0.2)",
    )
    p.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="hog|MODEL",
        help="also score another detector on the same frames: 'hog' (OpenCV's untrained HOG people "
        "detector, the floor to beat) or a detector .onnx (e.g. the previous model); repeatable",
    )
    p.add_argument("--section", default="", help="RESULTS.md section name (default: from --data)")
    p.add_argument("--card", type=Path, default=None, metavar="MD", help="write the model card (needs an .onnx model)")
    p.add_argument("--train-command", default="", help="the training command, for the model card")
    p.add_argument("--train-log", type=Path, default=None, help="the training log.csv, for the model card")


def _run_eval(args: argparse.Namespace) -> int:
    from ...eval.detection import plot_curves
    from ...utils.results import update_results_section
    from .evaluate import load_eval_frames, measure_latency, render_markdown, run_evaluation
    from .runner import PedestrianDetector

    detector = PedestrianDetector(
        args.model, backend=args.backend, threads=args.threads, score_threshold=args.score_threshold
    )
    frames = load_eval_frames(args.data, args.max_frames, args.every, args.frames_per_sequence)
    subsets = [s.strip() for s in args.subsets.split(",") if s.strip()]
    report = run_evaluation(detector, frames, subsets, embeddings=args.embeddings)
    report.operating_points = tuple(float(t) for t in args.operating_points.split(",") if t.strip())
    if args.latency:
        report.latency = measure_latency(detector, [image for image, _ in frames[:20]], repeats=args.latency)
    body = render_markdown(
        report,
        f"Model `{args.model.name}` on `{args.data}` ({detector.backend.name}, "
        f"input {detector.input_size[1]}x{detector.input_size[0]}).",
    )
    for other in args.compare:
        body += "\n\n" + _compared(other, frames, subsets, report.operating_points, args)
    print(body)
    if args.plots is not None:
        curves = {f"{g} ({s})": m for (g, s), m in report.metrics.items() if s == subsets[0]}
        for path in plot_curves(curves, args.plots, prefix=f"detection_{args.data.replace(':', '_')}"):
            print(f"wrote {path}")
    if args.card is not None:
        from .card import render_model_card

        args.card.write_text(render_model_card(args.model, body, args.train_command, args.train_log), encoding="utf-8")
        print(f"wrote {args.card}")
    if args.results:
        name = args.section or "detector-" + args.data.split(":")[-1].replace("/", "_").replace(".", "_").lower()
        update_results_section(name[:60], f"Detector on {args.data}", body)
    return 0


def _compared(other: str, frames, subsets: list[str], operating_points: tuple[float, ...], args) -> str:
    """The markdown of detector ``other`` ('hog' or a model file) evaluated on the same frames."""
    from .evaluate import render_markdown, run_evaluation

    if other == "hog":
        from .hog import HogPeopleDetector

        # HOG's scores are squashed SVM margins, not probabilities: no operating-point table
        report = run_evaluation(HogPeopleDetector(), frames, subsets)
        return render_markdown(report, "OpenCV HOG people detector (untrained, default settings) on the same frames.")
    from .runner import PedestrianDetector

    detector = PedestrianDetector(Path(other), backend=args.backend, threads=args.threads)
    report = run_evaluation(detector, frames, subsets)
    report.operating_points = operating_points
    return render_markdown(report, f"Compared model `{other}` on the same frames.")


def _latency_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, default=WEIGHTS_DIR / "detector.onnx")
    p.add_argument("--backend", default="onnxruntime")
    p.add_argument("--threads", default="1,2", help="comma-separated ONNX Runtime thread counts to time")
    p.add_argument("--repeats", type=int, default=100)
    p.add_argument("--data", default="synth:bench", help="images to time on (first 2 frames of each sequence)")
    p.add_argument("--results", action="store_true", help="write the table into docs/RESULTS.md")


def _run_latency(args: argparse.Namespace) -> int:
    from ...utils.results import markdown_table, update_results_section
    from .evaluate import load_eval_frames, measure_latency
    from .runner import PedestrianDetector

    images = [image for image, _ in load_eval_frames(args.data, frames_per_sequence=2)]
    rows: list[list[object]] = []
    for threads in (int(t) for t in args.threads.split(",")):
        detector = PedestrianDetector(args.model, backend=args.backend, threads=threads)
        lat = measure_latency(detector, images, repeats=args.repeats)
        rows.append([threads, lat["median_ms"], lat["p90_ms"], lat["fps"], lat["cpu_ms"], lat["load"]])
    h, w = detector.input_size
    body = (
        f"`detect()` of `{args.model.name}` on {len(images)} `{args.data}` images ({w}x{h} network input, "
        f"{args.backend}): letterbox + network + post-processing, {args.repeats} calls. The 2-core machine is "
        "shared by every helper's jobs; the load average says how busy it was, CPU time is per call over all threads. "
        "Goal: >= 20 FPS.\n\n"
        + markdown_table(["threads", "median ms", "p90 ms", "FPS (wall)", "CPU ms / call", "load avg"], rows)
    )
    print(body)
    if args.results:
        update_results_section("detector-latency", "Detector CPU latency", body)
    return 0


def _ablation_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="synth-compact")
    p.add_argument("--steps", type=int, default=300, help="optimiser steps per variant (same for all)")
    p.add_argument("--minutes", type=float, default=6.0, help="wall-clock cap per variant (same for all)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--variants", default="lla,fcos,retina,uniform", help="comma-separated: lla, fcos, retina, uniform")
    p.add_argument("--out", type=Path, default=Path("runs") / "detector-ablation")
    p.add_argument("--data", default="synth:bench", help="evaluation frames, as for evaluate detection")
    p.add_argument("--max-frames", type=int, default=100)
    p.add_argument("--every", type=int, default=1)
    p.add_argument("--frames-per-sequence", type=int, default=10)
    p.add_argument("--results", action="store_true", help="write the table into docs/RESULTS.md")
    p.add_argument("--section", default="detector-ablation", help="RESULTS.md section name")


def _run_ablation(args: argparse.Namespace) -> int:
    from ...utils.results import update_results_section
    from .ablation import run_ablation
    from .evaluate import load_eval_frames

    frames = load_eval_frames(args.data, args.max_frames, args.every, args.frames_per_sequence)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    table = run_ablation(
        args.preset, args.out, frames, args.steps, args.minutes, variants=variants, extra_overrides=args.overrides
    )
    print(table)
    if args.results:
        title = f"Detector ablation ({args.preset}): assignment and task weighting (equal budget: {args.steps} steps)"
        update_results_section(args.section, title, table)
    return 0


COMMANDS = [
    Command(
        ("train", "detector"), "train the pedestrian detector (LLA + JDE embeddings)", _train_arguments, _run_train
    ),
    Command(
        ("evaluate", "detection"),
        "MR^-2 / AP / recall of a detector (CrowdHuman protocol, CityPersons subsets)",
        _eval_arguments,
        _run_eval,
    ),
    Command(
        ("evaluate", "detection-latency"),
        "CPU latency of the detector's detect() per ONNX Runtime thread count",
        _latency_arguments,
        _run_latency,
    ),
    Command(
        ("ablation", "detector"),
        "LLA vs baseline assignment, uncertainty vs uniform weighting, equal budget",
        _ablation_arguments,
        _run_ablation,
    ),
]
