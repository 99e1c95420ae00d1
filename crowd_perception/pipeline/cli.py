"""``crowd-perception bench | gpu-check``: the pipeline's commands (each model and the whole pipeline timed)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..models.cli import models_argument
from ..utils.commands import Command

# -- bench ------------------------------------------------------------------------------------------


def _bench_arguments(parser: argparse.ArgumentParser) -> None:
    models_argument(parser)
    parser.add_argument("--backend", default="onnxruntime", help="onnxruntime, onnxruntime-gpu, tensorrt or auto")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads per model")
    parser.add_argument("--frames", type=int, default=20, help="timed frames of the synthetic bench suite")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--variant", choices=("", "int8"), default="", help="int8: the <model>.int8.onnx files")
    parser.add_argument("--people", type=int, nargs="+", default=[1, 5, 10, 20, 40, 80], help="scaling curve points")
    parser.add_argument("--scaling-repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, help="full results as JSON (default: docs/runtime-bench-<backend>.json)")
    parser.add_argument("--no-results", action="store_true", help="write neither docs/RESULTS.md nor the default JSON")


def _run_bench(args: argparse.Namespace) -> int:
    from ..utils.results import DEFAULT_RESULTS, update_results_section
    from .benchmark import BenchConfig, render_markdown, run_benchmark

    config = BenchConfig(
        backend=args.backend,
        threads=args.threads,
        frames=args.frames,
        warmup=args.warmup,
        people=tuple(args.people),
        scaling_repeats=args.scaling_repeats,
        models=tuple(args.models),
        variant=args.variant,
    )
    result = run_benchmark(config, args.weights_dir)
    markdown = render_markdown(result)
    print(markdown)
    name = f"runtime-bench-{args.backend}" + (f"-{args.variant}" if args.variant else "")
    json_path = args.json or (None if args.no_results else DEFAULT_RESULTS.parent / f"{name}.json")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if not args.no_results:
        title = f"Runtime benchmark ({args.backend}{', ' + args.variant if args.variant else ''})"
        update_results_section(name, title, markdown)
    return 0 if result["models"] else 1


# -- bench pipeline ---------------------------------------------------------------------------------


def _pipeline_bench_arguments(parser: argparse.ArgumentParser) -> None:
    from ..models.registry import DEFAULT_WEIGHTS_DIR
    from .resolution import AUTO, SETUPS, ResolutionBenchConfig

    d = ResolutionBenchConfig()
    parser.add_argument("--sizes", nargs="+", default=[f"{w}x{h}" for w, h in d.sizes], help="camera sizes WxH")
    parser.add_argument("--people", type=int, nargs="+", default=list(d.people), help="people per synthetic scene")
    parser.add_argument("--frames", type=int, default=d.frames, help="timed frames per scene")
    parser.add_argument("--warmup", type=int, default=d.warmup, help="untimed first frames per scene")
    parser.add_argument("--real", type=Path, nargs="*", default=[], help="folders of real images (sub-folder: sequence)")
    parser.add_argument("--variants", nargs="+", choices=("fp32", "int8"), default=list(d.variants))
    parser.add_argument("--setup", choices=[AUTO, *SETUPS], default=d.setup,
                        help="how the sweep runs the pipeline (auto: the fastest of the A/B)")
    parser.add_argument("--ab", default="960x540x40", help="WxHxPEOPLE scene of the setup A/B ('none': skip)")
    parser.add_argument("--weights-dir", type=Path, default=DEFAULT_WEIGHTS_DIR, help="the float models")
    parser.add_argument("--int8-dir", type=Path, default=None,
                        help="<model>.int8.onnx files, made there from the float models where missing (default: temporary)")
    parser.add_argument("--json", type=Path, help="also write the full results as JSON here")
    parser.add_argument("--results", action="store_true", help="write the section pipeline-resolution of docs/RESULTS.md")


def _run_pipeline_bench(args: argparse.Namespace) -> int:
    import tempfile

    from ..utils.results import update_results_section
    from .resolution import ResolutionBenchConfig, int8_models, run, scene_sizes
    from .resolution_report import render

    ab = None if args.ab == "none" else tuple(int(v) for v in args.ab.lower().split("x"))
    if ab is not None and len(ab) != 3:
        raise SystemExit(f"--ab is WIDTHxHEIGHTxPEOPLE or none, got {args.ab!r}")
    config = ResolutionBenchConfig(tuple(scene_sizes(args.sizes)), tuple(args.people), args.frames, args.warmup,
                                   tuple(args.real), tuple(args.variants), args.setup, ab)
    with tempfile.TemporaryDirectory(prefix="bench_int8_") as tmp:
        int8_dir = args.int8_dir or Path(tmp)
        if "int8" in config.variants:
            int8_models(args.weights_dir, int8_dir)
        result = run(config, args.weights_dir, int8_dir)
    markdown = render(result)
    print(markdown)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if args.results:
        update_results_section("pipeline-resolution", "Pipeline at camera resolutions and crowd sizes (CPU)", markdown)
    return 0


# -- gpu-check --------------------------------------------------------------------------------------


def _gpu_check_arguments(parser: argparse.ArgumentParser) -> None:
    from .gpu_check import add_arguments

    add_arguments(parser)


def _run_gpu_check(args: argparse.Namespace) -> int:
    from .gpu_check import run

    return run(args)


COMMANDS = [
    Command(("bench",), "time pre/infer/post per model and the pipeline on synthetic frames", _bench_arguments, _run_bench),
    Command(
        ("bench", "pipeline"),
        "the pipeline end to end and per stage at camera sizes and crowd sizes, fp32 and int8 (CPU)",
        _pipeline_bench_arguments,
        _run_pipeline_bench,
    ),
    Command(
        ("gpu-check",),
        "TensorRT FP16/INT8 engines vs ONNX Runtime and the GPU pipeline bench (scripts/gpu_check.sh)",
        _gpu_check_arguments,
        _run_gpu_check,
    ),
]
