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
        ("gpu-check",),
        "TensorRT FP16/INT8 engines vs ONNX Runtime and the GPU pipeline bench (scripts/gpu_check.sh)",
        _gpu_check_arguments,
        _run_gpu_check,
    ),
]
