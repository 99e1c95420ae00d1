"""``crowd-perception train pose3d``, ``evaluate pose3d``, ``evaluate pose3d-latency`` and ``evaluate pose3d-ablation``."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from ...utils.commands import Command

_log = logging.getLogger(__name__)
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "weights" / "pose3d.onnx"


def _train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("runs/pose3d"), help="output folder (checkpoints, log.csv, model.*)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="config override, e.g. train.steps=2000, selection=box, weighting=fixed, model.input_width=448")
    p.add_argument("--resume", type=Path, default=None,
                   help="resume from a training checkpoint (last.safetensors); --set applies on top of its config")
    p.add_argument("--data", default="", metavar="SOURCES",
                   help="train on a weighted mixture of the sources with 3D joints ('source:where@weight', "
                        "comma-separated: synth:<preset>, jta:<JTA root>), e.g. synth:train_a@0.8,jta:/data/JTA@0.2")


def _run_train(args: argparse.Namespace) -> int:
    from ...training import apply_overrides, config_from_dict, read_config
    from .config import Pose3DConfig
    from .train import run_training

    # A resumed run starts from its checkpoint's config (same anchors); overrides apply on top.
    base = Pose3DConfig() if args.resume is None else config_from_dict(Pose3DConfig, read_config(args.resume))
    cfg = apply_overrides(base, args.overrides)
    if args.data:
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, mix=args.data))
    result = run_training(cfg, args.out, resume=args.resume)
    _log.info("trained %d steps in %.0f s -> %s; %s", result.steps, result.seconds, result.weights, result.eval_metrics)
    return 0


def _calibrate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", type=Path, required=True,
                   help="model.safetensors written by train pose3d, or a training checkpoint (then --out)")
    p.add_argument("--out", type=Path, default=None, help="weights to write (default: rewrite --weights)")
    p.add_argument("--frames", type=int, default=0, help="validation frames (0: data.calibration_images)")


def _run_calibrate(args: argparse.Namespace) -> int:
    from .train import calibrate_and_export

    calibrate_and_export(args.weights, args.frames or None, args.out)
    return 0


def _model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="pose3d .onnx (with its .json) or .safetensors")
    _backend_arguments(p)


def _backend_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", default="onnxruntime", help="onnxruntime | tensorrt | auto (ONNX models only)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads of the backend")
    p.add_argument("--score-threshold", type=float, default=None,
                   help="readout score threshold (default: the model's calibrated operating point)")
    p.add_argument("--results", action="store_true", help="write the figures into docs/RESULTS.md")
    p.add_argument("--note", default="", help="text put before the generated note (e.g. how the model was trained)")


def _estimator(args: argparse.Namespace, model: Path | None = None):
    from .postprocess import PostprocessConfig
    from .runner import Pose3DEstimator

    post = None if args.score_threshold is None else PostprocessConfig(score_threshold=args.score_threshold)
    return Pose3DEstimator(model or args.model, backend=args.backend, threads=args.threads, postprocess_config=post)


def _eval_arguments(p: argparse.ArgumentParser) -> None:
    _model_arguments(p)
    p.add_argument("--split", default="bench", help="synthetic preset to evaluate on (bench: four crowd densities)")
    p.add_argument("--frames-per-sequence", type=int, default=0, help="only the first N frames of each sequence")
    p.add_argument("--max-frames", type=int, default=0, help="stop after N frames (0: all)")


def _run_eval(args: argparse.Namespace) -> int:
    from ...utils.results import update_results_section
    from .evaluate import AP_SCORE_THRESHOLD, accuracy_markdown, evaluate_by_group

    estimator = _estimator(args)
    threshold = estimator.postprocess_config.score_threshold
    results = evaluate_by_group(estimator, args.split, args.max_frames, frames_per_sequence=args.frames_per_sequence)
    note = (
        f"Model `{args.model.name}` on {args.backend}, synthetic split `{args.split}` (groups = crowd density). "
        f"AP: VOC all-point, IoU 0.5, over every detection scored >= {AP_SCORE_THRESHOLD}. Pose metrics at the "
        f"model's operating score threshold {threshold}: recall of people; MPJPE root-aligned over detected people, "
        "root joint excluded, poses scaled by the body-size prior; 3DPCK@150 mm with a missed person counting as "
        "all joints wrong; root error = camera-frame placement from the intrinsics and the body-size prior."
    )
    text = accuracy_markdown(results, f"{args.note} {note}".strip())
    print(text)
    if args.results:
        update_results_section("pose3d-accuracy", "3D pose (PandaNet): accuracy by crowd density", text)
    return 0


def _latency_arguments(p: argparse.ArgumentParser) -> None:
    _model_arguments(p)
    p.add_argument("--people", default="1,10,20,40,80", help="comma-separated crowd sizes of the test scenes")
    p.add_argument("--frames", type=int, default=20, help="frames per crowd size (median time reported)")
    p.add_argument("--repeats", type=int, default=3, help="interleaved timing passes over the frames")


def _run_latency(args: argparse.Namespace) -> int:
    from ...utils.results import update_results_section
    from .evaluate import latency_by_crowd, latency_markdown, readout_scaling

    estimator = _estimator(args)
    people = tuple(int(n) for n in args.people.split(","))
    rows = latency_by_crowd(estimator, people, args.frames, repeats=args.repeats)
    readout = readout_scaling(estimator, people)
    note = (
        f"Model `{args.model.name}` on {args.backend} with {args.threads} thread(s), 960x540 `bench`-camera frames; "
        f"{args.frames} frames x {args.repeats} interleaved passes per crowd size; total = letterbox + network + "
        "score threshold/NMS/readout + camera placement, per image (median); `detected` counts what the model "
        "outputs at its operating threshold, false positives included."
    )
    text = latency_markdown(rows, f"{args.note} {note}".strip(), readout)
    print(text)
    if args.results:
        update_results_section("pose3d-latency", "3D pose (PandaNet): latency vs. number of people (CPU)", text)
    return 0


def _ablation_arguments(p: argparse.ArgumentParser) -> None:
    _backend_arguments(p)
    p.add_argument("--runs", nargs="+", required=True, metavar="LABEL=WEIGHTS",
                   help="trained variants, e.g. pose=runs/abl_pose/model.safetensors none=runs/abl_none/model.safetensors")
    p.add_argument("--split", default="val_a")
    p.add_argument("--max-frames", type=int, default=200)
    p.add_argument("--title", default="3D pose (PandaNet): ablations")
    p.add_argument("--section", default="pose3d-ablation")


def _run_ablation(args: argparse.Namespace) -> int:
    from ...utils.results import markdown_table, update_results_section
    from .evaluate import evaluate_by_group

    rows = []
    for item in args.runs:
        label, sep, path = item.partition("=")
        if not sep:
            raise SystemExit(f"--runs entries are LABEL=WEIGHTS, got {item!r}")
        estimator = _estimator(args, Path(path))
        r = evaluate_by_group(estimator, args.split, args.max_frames)["all"]
        rows.append([label, estimator.postprocess_config.score_threshold, r["ap"], r["recall"], r["mpjpe_mm"], r["pck"],
                     r["root_error_m"]])
    note = f"{args.note} " if args.note else ""
    note += f"Evaluated on the first {args.max_frames} frames of `{args.split}` at each variant's score threshold."
    text = f"{note}\n\n" + markdown_table(
        ["variant", "score threshold", "AP@0.5", "recall", "MPJPE (mm)", "3DPCK@150", "root error (m)"], rows
    )
    print(text)
    if args.results:
        update_results_section(args.section, args.title, text)
    return 0


def _real_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", nargs="+", type=Path, default=[DEFAULT_MODEL], help="pose3d models to compare")
    _backend_arguments(p)
    p.add_argument("--data", default="fixtures:../shared/fixtures", help="real frames with person boxes (as for evaluate detection)")


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory where it lies below it (no machine-specific prefix)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def _run_real(args: argparse.Namespace) -> int:
    """Real images have no 3D ground truth here: score what a 3D model must get right first, finding the
    people (its person boxes vs the annotated ones), at its own operating threshold."""
    from ...utils.results import update_results_section
    from ..detector.evaluate import load_eval_frames, render_markdown, run_evaluation
    from .evaluate import PersonFinder

    frames = load_eval_frames(args.data)
    parts = []
    for model in args.models:
        finder = PersonFinder(_estimator(args, model))
        threshold = finder.estimator.postprocess_config.score_threshold
        report = run_evaluation(finder, frames)
        report.operating_points = (threshold,)
        single = [i for i, (_, ann) in enumerate(frames) if len(ann.persons) == 1]
        found = sum(finder.found_alone(*frames[i], threshold) for i in single)
        parts.append(
            render_markdown(report, f"3D model `{_shown(model)}` ({args.backend}): its person boxes on `{args.data}`; "
                            f"operating threshold {threshold:.2f}.")
            + f"\n\nSingle-person frames: the person found (IoU >= 0.5 at the operating threshold) in {found} of {len(single)}."
        )
    text = f"{args.note} ".lstrip() + "\n\n".join(parts)
    print(text)
    if args.results:
        update_results_section("pose3d-real", "3D pose (PandaNet): finding people in real images", text)
    return 0


COMMANDS = [
    Command(("train", "pose3d"), "train the PandaNet 3D pose network on synthetic (or JTA) data", _train_arguments,
            _run_train),
    Command(("train", "pose3d-calibrate"), "set a trained model's score threshold (best val F1) and re-export",
            _calibrate_arguments, _run_calibrate),
    Command(("evaluate", "pose3d"), "3D pose AP / MPJPE / 3DPCK / root error by crowd density", _eval_arguments,
            _run_eval),
    Command(("evaluate", "pose3d-latency"), "3D pose latency as the crowd grows (CPU, incl. post-processing)",
            _latency_arguments, _run_latency),
    Command(("evaluate", "pose3d-ablation"), "evaluate trained ablation variants side by side", _ablation_arguments,
            _run_ablation),
    Command(("evaluate", "pose3d-real"), "3D models' person boxes on real annotated frames (no 3D ground truth there)",
            _real_arguments, _run_real),
]
