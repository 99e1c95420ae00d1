"""``crowd-perception replay``, ``evaluate`` (all metrics of a bag) and ``demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..utils.commands import Command


def _replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bag", required=True, type=Path, help="input rosbag2 (folder, .mcap or .db3)")
    parser.add_argument("--out", required=True, type=Path, help="output bag folder (must not exist)")
    parser.add_argument("--config", type=Path, help="ROS 2 params file (default: config/crowd_perception.yaml)")
    parser.add_argument("--backend", choices=("onnxruntime", "tensorrt", "auto"), help="override the config's backend")
    parser.add_argument("--stages", default="detector,pose2d,pose3d,tracker",
                        help="comma-separated stages to run (detector first)")
    parser.add_argument("--image-topic", help="image topic (default: the bag's only image topic)")
    parser.add_argument("--camera-info-topic", help="CameraInfo topic (default: the bag's only one)")
    parser.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    parser.add_argument("--strict", action="store_true",
                        help="stop at the first faulty frame (default: skip it, write its empty result, count it)")
    parser.add_argument("--namespace", default="crowd_perception",
                        help="namespace the nodes would run in: which sections of --config apply, as ROS reads them "
                             "(default: the launch file's, crowd_perception)")
    parser.add_argument("--graph", action="store_true",
                        help="through the real ROS 2 graph: the nodes as separate processes over DDS (needs rclpy and "
                             "the generated messages: scripts/setup.sh), a lock-step bag player and a recorder")
    parser.add_argument("--results", action="store_true",
                        help="with --graph: also replay offline, compare, and write both FPS into docs/RESULTS.md")


def _check_paths(bag: Path, out: Path | None = None) -> None:
    """Fail at once (before any model is loaded) on a missing input bag or an existing output."""
    from .bag import BagError

    if not bag.exists():
        raise BagError(f"bag {bag} does not exist")
    if out is not None and out.exists():
        raise BagError(f"{out} exists already; rosbag2 writers never overwrite (choose another --out)")


def _run_replay(args: argparse.Namespace) -> int:
    from ..pipeline import Pipeline
    from .replay import replay_bag

    _check_paths(args.bag, args.out)
    if args.graph or args.results:
        from .graph_replay import run_replay_command

        return run_replay_command(args)
    pipeline = Pipeline.from_config(args.config, [s.strip() for s in args.stages.split(",") if s.strip()],
                                    backend=args.backend, namespace=args.namespace)
    report = replay_bag(args.bag, args.out, pipeline, image_topic=args.image_topic,
                        camera_info_topic=args.camera_info_topic, storage=args.storage, strict=args.strict)
    print(report.summary())
    for index, reason in report.failed:
        print(f"  frame {index} failed: {reason}")
    for index, reason in report.skipped[:20]:
        print(f"  frame {index} skipped: {reason}")
    if len(report.skipped) > 20:
        print(f"  ... {len(report.skipped) - 20} more skipped frames")
    for topic, count in report.undecodable_messages.items():
        print(f"  {count} undecodable messages on {topic} not used")
    if report.ended_early:
        print(f"error: input ended early after {report.frames} frames (kept in {args.out}): {report.ended_early}",
              file=sys.stderr)
    elif report.frames_lost:
        print(f"error: {report.frames_lost} images of {args.bag} are in corrupt storage and could not be read; "
              f"the other {report.frames} frames are in {args.out}", file=sys.stderr)
    # skipped frames are input faults handled as designed (empty result, counted): not a failure of the run
    return 0 if not report.failed and report.complete else 1


def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    # not argparse-required: `evaluate` also heads the per-area `evaluate <area>` commands
    parser.add_argument("--bag", type=Path, help="replayed bag with our outputs (and ground truth)")
    parser.add_argument("--gt", type=Path, help="bag with the ground truth, when --bag has none")
    parser.add_argument("--out", type=Path, help="folder for metrics.json, metrics.txt and plots")
    parser.add_argument("--fps", type=float, help="frame rate for the tracking files (default: from the stamps)")
    parser.add_argument("--strict", action="store_true", help="stop at the first undecodable frame")


def _run_evaluate(args: argparse.Namespace) -> int:
    if args.bag is None:
        raise SystemExit("crowd-perception evaluate: --bag is required (or use `evaluate <area>`)")
    from .evaluate import evaluate_bag

    result = evaluate_bag(args.bag, args.gt, args.out, args.fps, strict=args.strict)
    if result.without_ground_truth is not None:
        print(f"{args.bag} has no ground truth: counts and track stability only")
    else:
        print(f"{result.frames} frames with ground truth")
    print(result.table())
    if args.out:
        print(f"report: {args.out}/metrics.json, metrics.txt, {len(result.plots)} plots")
    if result.replay is not None and not result.replay.get("complete", True):
        print("error: the replay that wrote this bag did not finish; its metrics cover a prefix only", file=sys.stderr)
        return 1
    return 0


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder (default: out/demo)")
    parser.add_argument("--preset", default="demo", help="synthetic preset (default: demo)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", choices=("onnxruntime", "tensorrt", "auto"), default="onnxruntime")
    parser.add_argument("--config", type=Path, help="ROS 2 params file (default: config/crowd_perception.yaml)")
    parser.add_argument("--frames", type=int, help="only the first N frames")
    parser.add_argument("--results", action="store_true", help="also write the figures into docs/RESULTS.md")
    parser.add_argument("--section", default="demo",
                        help="RESULTS.md section for --results (default: demo; another name keeps the default's figures, "
                             "e.g. for a candidate model given by --config)")
    parser.add_argument("--keep", action="store_true",
                        help="refuse to run when --out holds a previous demo (default: replace its outputs)")


def _run_demo(args: argparse.Namespace) -> int:
    from .demo import results_markdown, run_demo

    result = run_demo(args.out, args.preset, args.seed, args.backend, args.config, args.frames,
                      overwrite=not args.keep)
    print(f"generated {result.input_bag} in {result.generation_seconds:.1f} s")
    print(result.replay.summary())
    print(result.evaluation.table())
    print(f"video: {result.video}\nsummary: {result.summary}")
    if args.results:
        from ..utils.results import update_results_section

        title = f"Demo: synthetic '{args.preset}' bag through the whole stack ({args.backend}, CPU)"
        if args.config is not None:
            title += f", params {args.config.name}"
        print(f"results: {update_results_section(args.section, title, results_markdown(result))}")
    return 0 if not result.replay.failed else 1


def _import_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", type=Path, metavar="DIR", help="folder of images (natural name order)")
    source.add_argument("--video", type=Path, metavar="FILE", help="video file (anything OpenCV reads)")
    parser.add_argument("--out", required=True, type=Path, help="output bag folder (must not exist)")
    parser.add_argument("--fps", type=float, help="frame rate of the stamps (default: the video's; 10 for images)")
    parser.add_argument("--camera-info", type=Path, metavar="YAML",
                        help="camera_calibration YAML (image_width, camera_matrix, ...): a CameraInfo per frame")
    parser.add_argument("--topic", default="/camera/image_raw", help="image topic (default: /camera/image_raw)")
    parser.add_argument("--camera-info-topic", help="CameraInfo topic (default: camera_info beside the image topic)")
    parser.add_argument("--compressed", action="store_true",
                        help="write sensor_msgs/CompressedImage on <topic>/compressed (JPEG/PNG files keep their bytes)")
    parser.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    parser.add_argument("--start", type=float, default=0.0, help="stamp of the first frame [s] (default: 0)")
    parser.add_argument("--frame-id", default="camera_optical_frame", help="header frame_id")
    parser.add_argument("--strict", action="store_true", help="an undecodable image file is an error (default: skipped)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _run_import(args: argparse.Namespace) -> int:
    from .bag_import import import_to_bag

    report = import_to_bag(args.out, images=args.images, video=args.video, fps=args.fps, camera_info=args.camera_info,
                           topic=args.topic, camera_info_topic=args.camera_info_topic, compressed=args.compressed,
                           storage=args.storage, start_s=args.start, frame_id=args.frame_id, strict=args.strict,
                           progress=not args.no_progress)
    print(report.summary())
    for name, reason in report.skipped:
        print(f"  skipped {name}: {reason}")
    return 0


COMMANDS = [
    Command(("bag", "import"), "a folder of images or a video (+ camera_calibration YAML) -> a rosbag2 for replay",
            _import_arguments, _run_import),
    Command(("replay",), "run the node stages frame-locked over a rosbag2, write a bag with all outputs",
            _replay_arguments, _run_replay),
    Command(("evaluate",), "all metrics of a replayed bag (detection, 2D/3D pose, tracking): table, JSON, plots",
            _evaluate_arguments, _run_evaluate),
    Command(("demo",), "synthetic demo bag -> replay through the whole stack on CPU -> metrics, MP4, FPS",
            _demo_arguments, _run_demo),
]
