"""``crowd-perception train pose`` / ``evaluate pose`` (torch imported lazily in ``run``).

ONNX export of the shipped weights goes through ``crowd-perception export --models pose2d``
(registered in :mod:`crowd_perception.models.registry`), or ``train pose --export``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...utils.commands import Command

if TYPE_CHECKING:
    from .unlabeled import UnlabeledReaders

__all__ = ["commands"]

_log = logging.getLogger(__name__)


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="cpu",
                        help="cpu (shipped: frame mode, 128x96 crops of 384x640 frames), cpu_crop (pixel crops), gpu or smoke")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field, e.g. model.use_trp=false or train.steps=500 (repeatable)")
    parser.add_argument("--data", default="", metavar="SOURCES",
                        help="bank frames from a weighted mixture instead of the preset's data ('source:where@weight', "
                             "comma-separated), e.g. synth:train_a@0.6,coco:/data/coco/person_keypoints_train2017.json@0.3,"
                             "crowdpose:/data/crowdpose/crowdpose_trainval.json@0.1; crowdhuman / citypersons parts "
                             "(no keypoints) and a user's unlabeled frames (images:DIR, bag:PATH; person boxes "
                             "from the shipped detector) are the domain-adaptation target")
    parser.add_argument("--out", type=Path, default=Path("runs/pose2d"), help="output folder (weights, CSV log)")
    parser.add_argument("--resume", type=Path, default=None, help="training checkpoint to continue from")
    parser.add_argument("--export", action="store_true", help="also write <out>/pose2d.onnx (+ .json metadata)")


def _run_train(args: argparse.Namespace, unlabeled: Callable[[], UnlabeledReaders] | None = None) -> int:
    from ...training import apply_overrides
    from .config import PRESETS
    from .train import run_training

    if args.preset not in PRESETS:
        raise SystemExit(f"unknown preset {args.preset!r}; choose from {sorted(PRESETS)}")
    cfg = apply_overrides(PRESETS[args.preset](), args.overrides)
    if args.data:
        cfg.data = replace(cfg.data, mix=args.data)
    result = run_training(cfg, args.out, resume=args.resume, unlabeled=unlabeled() if unlabeled else None)
    _log.info("trained %d steps in %.0f s -> %s", result.steps, result.seconds, result.weights)
    if args.export and result.weights is not None:
        from .export import export_pose

        export_pose(result.weights, args.out / "pose2d.onnx")
    return 0


def _ship_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", type=Path, help="a 'train pose --export' output folder")
    parser.add_argument("--weights-dir", type=Path, default=Path(__file__).resolve().parents[2] / "weights")
    parser.add_argument("--command", required=True, help="the training command line, recorded in the model card")
    parser.add_argument("--calibrate", default="val_a",
                        help="held-out synthetic preset whose frames calibrate the occlusion threshold ('' = none)")
    parser.add_argument("--calibration-frames", type=int, default=40, help="frames of --calibrate used")
    parser.add_argument("--calibration-stride", type=int, default=5, help="every n-th frame of --calibrate (video)")


def _run_ship(args: argparse.Namespace) -> int:
    from itertools import islice

    from .card import ship_run
    from .data import synthetic_frames

    frames, name = None, ""
    if args.calibrate:
        stride = max(args.calibration_stride, 1)
        frames = list(islice(synthetic_frames(args.calibrate), 0, args.calibration_frames * stride, stride))
        name = f"{args.calibrate}, {len(frames)} frames, every {stride}th"
    for path in ship_run(args.run, args.weights_dir, args.command, frames, name):
        print(path)
    return 0


def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, action="append", default=[],
                        help="pose model (.onnx, or .safetensors with --backend torch); repeat to compare models")
    parser.add_argument("--baseline", action="append", default=[], choices=["mean-pose", "blazepose"],
                        help="also evaluate a baseline: mean-pose = one constant pose (the mean of the evaluated "
                             "ground truth, in box-normalised coordinates) pasted into every ground-truth box; "
                             "blazepose = the fixed BlazePose trunk's own joint heatmaps, no trained head")
    parser.add_argument("--label", action="append", default=[], help="name of each --model in the tables")
    parser.add_argument("--backend", default="onnxruntime", help="onnxruntime | tensorrt | auto | torch")
    parser.add_argument("--data", default="bench",
                        help="synthetic preset (bench, val_a, val_b, ...) or COCO-style keypoints JSON(s) "
                             "(COCO, CrowdPose, OCHuman; comma-separated: one table, a row group per file)")
    parser.add_argument("--image-root", type=Path, default=None, help="image folder of a COCO-style JSON")
    parser.add_argument("--frames", type=int, default=0, help="evaluate only this many frames (0: all)")
    parser.add_argument("--frame-stride", type=int, default=1, help="use every n-th frame (synthetic video)")
    parser.add_argument("--skeleton", default="", help="evaluation skeleton (default: the model's)")
    parser.add_argument("--min-height", type=float, default=32.0, help="evaluate people at least this tall (px)")
    parser.add_argument("--flip-test", action="store_true")
    parser.add_argument("--occlusion-table", action="store_true", help="AP at 0-70 %% synthetic part occlusion")
    parser.add_argument("--latency", action="store_true", help="latency vs number of people (1, 10, 30, 60, 80)")
    parser.add_argument("--latency-only", action="store_true",
                        help="measure latency only, no accuracy (e.g. for an untrained network of another architecture)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--results", default="", help="write the tables into docs/RESULTS.md under this section name")
    parser.add_argument("--title", default="", help="section title for --results")
    parser.add_argument("--json", type=Path, default=None, help="also write every metric as JSON here")
    parser.add_argument("--note", default="", help="text placed before the tables (e.g. how the models were trained)")


def _frames(args: argparse.Namespace) -> list:
    from itertools import islice

    if args.data.endswith(".json"):
        from .data import coco_frames

        paths = args.data.split(",")
        if len(paths) == 1:
            stream = coco_frames(args.data, args.image_root)
        else:  # several files: each frame's group (sequence) is its file's name, so each set also gets its own row
            stream = (
                (image, replace(frame, sequence=Path(path).stem))
                for path in paths
                for image, frame in coco_frames(path, args.image_root)
            )
    else:
        from .data import synthetic_frames

        stream = synthetic_frames(args.data)
    stream = islice(stream, 0, None, max(args.frame_stride, 1))
    return list(islice(stream, args.frames) if args.frames > 0 else stream)


def _blazepose_baseline(threads: int, flip_test: bool) -> Any:
    """The ``blazepose`` baseline's estimator (its network built in a scratch file, then held in memory)."""
    from .evaluate import blazepose_trunk_weights
    from .runner import OccludedPoseEstimator

    with tempfile.TemporaryDirectory() as scratch:
        weights = blazepose_trunk_weights(Path(scratch) / "blazepose_trunk.safetensors")
        return OccludedPoseEstimator(weights, "torch", threads=threads, flip_test=flip_test)


def _run_evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from .evaluate import MeanPoseEstimator, evaluate_frames, latency_vs_people, occlusion_table
    from .report import render_report
    from .runner import OccludedPoseEstimator

    labels = args.label or [m.stem for m in args.model]
    if len(labels) != len(args.model):
        raise SystemExit(f"{len(args.model)} models but {len(labels)} labels")
    if not args.model and not args.baseline:
        raise SystemExit("give at least one --model or --baseline")
    frames = _frames(args)
    if not frames:
        raise SystemExit(f"no frames in {args.data}")
    metrics: dict[str, dict] = {}
    estimators: list[tuple[str, Callable[[], Any]]] = [
        (label, partial(OccludedPoseEstimator, path, args.backend, threads=args.threads, flip_test=args.flip_test))
        for label, path in zip(labels, args.model, strict=True)
    ]
    if "mean-pose" in args.baseline:
        skeleton = args.skeleton or "coco17"
        estimators.append(("mean pose (floor)", lambda: MeanPoseEstimator.fit(frames, skeleton, args.min_height)))
    if "blazepose" in args.baseline:
        estimators.append(("BlazePose trunk alone (no head)", partial(_blazepose_baseline, args.threads, args.flip_test)))
    for label, make in estimators:
        est = make()
        skeleton = args.skeleton or est.skeleton
        entry: dict = {} if args.latency_only else {"frames": evaluate_frames(est, frames, skeleton, args.min_height)}
        if args.occlusion_table and not args.latency_only:
            entry["occlusion_table"] = {str(k): v for k, v in occlusion_table(est, frames, skeleton=skeleton).items()}
        if args.latency or args.latency_only:
            image, frame = max(frames, key=lambda f: len(f[1].persons))
            boxes = frame.persons.boxes[np.isfinite(frame.persons.boxes).all(axis=1)]
            entry["latency_ms"] = {str(k): v for k, v in latency_vs_people(est, image, boxes).items()}
            entry["load_average"] = os.getloadavg()[0]  # timings on a shared machine depend on it
        metrics[label] = entry
        if "frames" in entry:
            _log.info("%s: AP %.3f", label, entry["frames"]["all"]["AP"])
    body = render_report(metrics, data=args.data, frames=len(frames), backend=args.backend, flip=args.flip_test)
    if args.note:
        body = args.note.strip() + "\n\n" + body
    print(body)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    if args.results:
        from ...utils.results import update_results_section

        update_results_section(args.results, args.title or f"2D pose ({args.data})", body)
    return 0


def commands(unlabeled: Callable[[], UnlabeledReaders] | None = None) -> list[Command]:
    """The 2D pose commands; ``unlabeled`` (from the layers above: the detector and the bag reader)
    makes ``train pose --data images:DIR,bag:PATH`` available."""
    return [
        Command(("train", "pose"), "train the occluded 2D pose network (RSGNet + Das et al.)", _train_arguments,
                partial(_run_train, unlabeled=unlabeled)),
        Command(("ship", "pose"), "make a pose run the default model: calibrate, export, model card into weights/",
                _ship_arguments, _run_ship),
        Command(("evaluate", "pose"), "OKS AP by density / occlusion / crowd index, occlusion table, latency",
                _evaluate_arguments, _run_evaluate),
    ]
