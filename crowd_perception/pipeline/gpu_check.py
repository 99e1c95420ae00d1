"""``crowd-perception gpu-check``: the TensorRT proof a session lent a GPU runs in minutes.

For each shipped network (``crowd_perception/weights/<model>.onnx``):

1. an FP16 TensorRT engine is built (:class:`~crowd_perception.runtime.backends.tensorrt.TensorRTBackend`, strongly typed
   from the FP16-converted ONNX) and its outputs are compared with ONNX Runtime's float outputs on
   the feeds the model's runner really produces on synthetic ``val_a`` frames;
2. with ``int8`` among the precisions, the repo's INT8 variant is made as ``crowd-perception export
   --int8`` makes it (:func:`~crowd_perception.models.int8.export_int8`: Q/DQ, calibrated on the runner's feeds from
   ``train_a`` frames), built as exported (the Q/DQ nodes set the precision) and compared with ONNX
   Runtime running the same Q/DQ model;
3. the models and the whole pipeline are timed on TensorRT at ``--width`` x ``--height``
   (:mod:`.benchmark`, frames of the synthetic ``bench`` preset re-rendered at that size);
4. with all three models, ``bench pipeline``'s sweep on TensorRT (:mod:`.resolution`): the pipeline
   end to end and per stage at that size with ``--people`` people (section ``gpu-pipeline-resolution``).

Tolerance (:data:`TOLERANCES`): per output, the mean absolute difference divided by the reference
output's standard deviation (``mean_rel`` of :func:`~crowd_perception.runtime.quantize.output_error`), averaged over the
feeds. Everything lands in ``--out``: ``RESULTS.md`` sections (through
:func:`~crowd_perception.utils.results.update_results_section`, to be carried into
``docs/RESULTS.md``) and ``gpu_check.json``, written after each step so a run cut short keeps what
it measured. Exit status: 0 all outputs within tolerance, 1 some are not, 2 TensorRT cannot run here
(one line on stderr saying why).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..models.registry import DEFAULT_WEIGHTS_DIR, MODELS

__all__ = ["TOLERANCES", "add_arguments", "compare_outputs", "run", "main"]

log = logging.getLogger(__name__)

# Largest allowed mean |engine - reference| / std(reference) per output. FP16 vs float: the repo's FP16
# conversion alone (the FP16 ONNX on ONNX Runtime CPU, as the fake TensorRT of the tests runs it) moves
# pose2d's occlusion logits by 3.1 % of their spread and every other output by <= 0.5 %, hence 5 %.
# INT8 engine vs ONNX Runtime on the same Q/DQ model: same scales, only kernels and accumulation order
# differ, so also 5 % (the Q/DQ model itself is 2-85 % off the float one, see RESULTS `runtime-int8`).
# A broken engine (wrong layout, wrong input scaling) is off by ~100 %.
TOLERANCES: dict[str, float] = {"fp16": 0.05, "int8": 0.05}
PRECISIONS = tuple(TOLERANCES)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, help="where RESULTS.md and gpu_check.json go (default: $OUT)")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS))
    parser.add_argument("--weights-dir", type=Path, default=DEFAULT_WEIGHTS_DIR, help="folder of <model>.onnx/.json")
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=list(PRECISIONS))
    parser.add_argument("--parity-frames", type=int, default=4, help="val_a frames whose feeds are compared")
    parser.add_argument("--calibration-frames", type=int, default=8, help="train_a frames calibrating INT8")
    parser.add_argument("--bench-frames", type=int, default=20, help="timed frames of the pipeline bench")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--people", type=int, nargs="+", default=[10, 40, 80], help="crowds of the pipeline sweep")
    parser.add_argument("--threads", type=int, default=4, help="onnxruntime threads (reference runs, calibration)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="engine cache (default: a temporary folder)")


# ------------------------------------------------------------------ parity
def compare_outputs(
    reference: Sequence[dict[str, np.ndarray]], engine: Sequence[dict[str, np.ndarray]], tolerance: float
) -> list[dict[str, Any]]:
    """Per output over all runs: largest and mean absolute error and mean error / reference spread
    (:func:`~crowd_perception.runtime.quantize.output_error`), and ``ok``: same shapes in every run, finite, within ``tolerance``."""
    from ..runtime.quantize import output_error

    if len(reference) != len(engine) or not reference:
        raise ValueError(f"need the same, non-zero number of runs, got {len(reference)} and {len(engine)}")
    rows = []
    for name in reference[0]:
        pairs = [(r[name], e[name]) for r, e in zip(reference, engine, strict=True)]
        same_shapes = all(np.shape(r) == np.shape(e) for r, e in pairs)
        errors = [output_error({name: r}, {name: e})[name] for r, e in pairs if np.shape(r) == np.shape(e)]
        mean_rel = float(np.mean([err["mean_rel"] for err in errors])) if errors else float("nan")
        rows.append(
            {
                "output": name,
                "max_abs": max((err["max_abs"] for err in errors), default=float("nan")),
                "mean_abs": float(np.mean([err["mean_abs"] for err in errors])) if errors else float("nan"),
                "mean_rel": mean_rel,
                "tolerance": tolerance,
                "ok": same_shapes and bool(np.isfinite(mean_rel)) and mean_rel <= tolerance,
            }
        )
    return rows


def _parity(name: str, onnx_path: Path, feeds: list[dict[str, np.ndarray]], precision: str, cache_dir: Path,
            threads: int) -> dict[str, Any]:
    """Build ``onnx_path``'s engine and compare it with ONNX Runtime on the same file and feeds."""
    from ..runtime.backends import resolve_metadata
    from ..runtime.backends.onnxruntime import OrtBackend
    from ..runtime.backends.tensorrt import TensorRTBackend

    metadata = resolve_metadata(onnx_path, None)
    start = time.perf_counter()
    engine = TensorRTBackend(onnx_path, metadata=metadata, cache_dir=cache_dir, precision="fp16")
    build_s = time.perf_counter() - start
    reference = OrtBackend(onnx_path, threads=threads, metadata=metadata)
    rows = compare_outputs([reference.run(f) for f in feeds], [engine.run(f) for f in feeds], TOLERANCES[precision])
    gpu = engine.key.gpu_name
    engine.close()
    log.info("%s %s: engine in %.1f s, worst mean_rel %.4f", name, precision, build_s, max(r["mean_rel"] for r in rows))
    return {"model": name, "precision": precision, "gpu": gpu, "build_s": build_s, "feeds": len(feeds), "outputs": rows}


# ------------------------------------------------------------------ pipeline bench
def _bench(variant: str, models: Sequence[str], model_dir: Path, samples: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    """Models and pipeline on TensorRT on ``samples`` (:mod:`.benchmark`'s suite)."""
    from ..models.registry import load_runner
    from .benchmark import BenchConfig, bench_runners

    config = BenchConfig(
        backend="tensorrt",
        frames=args.bench_frames,
        warmup=args.warmup,
        people=(),
        models=tuple(models),
        variant=variant,
    )
    runners = {name: load_runner(name, MODELS[name].onnx(model_dir, variant), backend="tensorrt") for name in models}
    return bench_runners(runners, samples, config)


def _pipeline_resolution(model_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """``bench pipeline``'s sweep on TensorRT: the pipeline end to end and per stage at ``--width`` x
    ``--height`` with each of ``--people`` (:mod:`.resolution`), one row per precision and crowd."""
    from .resolution import Setup, crowd_scene, load_average, load_pipeline, sweep

    scenes = [crowd_scene((args.width, args.height), n, args.bench_frames + args.warmup) for n in args.people]
    result: dict[str, Any] = {
        "config": {"warmup": args.warmup, "frames": args.bench_frames, "setup": "sequential"},
        "setup": "sequential (one GPU stream)",
        "backend": "TensorRT (GPU)",
        "variants": "fp16 and int8: the engines of the parity check above.",
        "load_average_start": load_average(),
        "sweep": [],
        "ab": [],
    }
    for precision in args.precisions:
        pipeline = load_pipeline(model_dir, "int8" if precision == "int8" else "", Setup(overlap_3d=False), "tensorrt")
        result["sweep"] += sweep(pipeline, precision, scenes, args.warmup)
    result["load_average_end"] = load_average()
    return result


# ------------------------------------------------------------------ report
def _parity_section(parity: list[dict[str, Any]], args: argparse.Namespace) -> str:
    from ..utils.results import markdown_table

    rows = [
        [
            p["model"],
            p["precision"],
            round(p["build_s"], 1),
            r["output"],
            r["max_abs"],
            r["mean_abs"],
            r["mean_rel"],
            r["tolerance"],
            "yes" if r["ok"] else "NO",
        ]
        for p in parity
        for r in p["outputs"]
    ]
    return (
        "TensorRT engines of the shipped networks against ONNX Runtime (CPU) on the feeds each model's runner "
        f"produces on {args.parity_frames} synthetic `val_a` frames. `fp16`: engine built from the FP16-converted "
        "ONNX, reference the float ONNX. `int8`: the Q/DQ model of `crowd-perception export --int8` "
        f"({args.calibration_frames} `train_a` calibration frames), engine built as exported, reference the same "
        "Q/DQ model on ONNX Runtime. Tolerance: mean |engine - reference| / std(reference) per output "
        f"(fp16 <= {TOLERANCES['fp16']}, int8 <= {TOLERANCES['int8']}). Build: engine build time in seconds "
        "(timing cache cold).\n\n"
        + markdown_table(
            [
                "model",
                "precision",
                "build s",
                "output",
                "max abs err",
                "mean abs err",
                "mean err / std",
                "tolerance",
                "within",
            ],
            rows,
        )
    )


def _write(out: Path, report: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    """The whole check (see the module docstring); returns the exit status."""
    from ..models.int8 import export_int8, recorded_feeds
    from ..runtime.backends import BackendUnavailableError
    from ..runtime.backends.tensorrt import import_cudart, import_tensorrt
    from ..utils.results import machine_description, update_results_section
    from .benchmark import bench_samples, render_markdown
    from .pipeline import MODEL_STAGES
    from .resolution_report import render as render_resolution

    out = args.out or (Path(os.environ["OUT"]) if os.environ.get("OUT") else None)
    if out is None:
        print("gpu-check: no output folder: give --out or set $OUT", file=sys.stderr)
        return 2
    missing = [
        str(MODELS[n].onnx(args.weights_dir)) for n in args.models if not MODELS[n].onnx(args.weights_dir).is_file()
    ]
    if missing:
        print(f"gpu-check: model file not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        trt = import_tensorrt()
        import_cudart()
    except BackendUnavailableError as exc:
        print(f"gpu-check: {exc}", file=sys.stderr)
        return 2
    results = out / "RESULTS.md"
    argv = sys.argv[1:]
    argv = argv[argv.index("gpu-check") + 1 :] if "gpu-check" in argv else argv
    command = " ".join(["crowd-perception gpu-check", *(shlex.quote(a) for a in argv)])

    def section(name: str, title: str, body: str) -> None:
        gpus = sorted({p["gpu"] for p in report["parity"]})
        machine = f"{machine_description()}, GPU {', '.join(gpus) or '?'}, TensorRT {trt.__version__}"
        update_results_section(name, title, body, command=command, machine=machine, path=results)

    with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
        work, cache = Path(tmp) / "models", args.cache_dir or Path(tmp) / "engines"
        os.environ["CROWD_PERCEPTION_ENGINE_CACHE"] = str(cache)  # the runners' engines land in the same cache
        work.mkdir()
        for name in args.models:  # a private copy: the INT8 export writes beside the float model
            for suffix in (".onnx", ".json"):
                shutil.copy2(MODELS[name].onnx(args.weights_dir).with_suffix(suffix), work)
        report: dict[str, Any] = {"tensorrt": str(trt.__version__), "parity": [], "bench": {}}
        try:
            for name in args.models:
                feeds = recorded_feeds(name, MODELS[name].onnx(work), "val_a", args.parity_frames, args.threads, 1)
                if "fp16" in args.precisions:
                    report["parity"].append(_parity(name, MODELS[name].onnx(work), feeds, "fp16", cache, args.threads))
                if "int8" in args.precisions:
                    report.setdefault("int8_export", {})[name] = export_int8(
                        name, work, args.calibration_frames, args.threads
                    )
                    int8 = MODELS[name].onnx(work, "int8")
                    report["parity"].append(_parity(name, int8, feeds, "int8", cache, args.threads))
                _write(out, report)
                section(
                    "gpu-tensorrt-parity", "TensorRT engines vs ONNX Runtime", _parity_section(report["parity"], args)
                )
            samples = bench_samples(args.bench_frames + args.warmup, size=(args.width, args.height))
            for precision in args.precisions:
                variant = "int8" if precision == "int8" else ""
                report["bench"][precision] = _bench(variant, args.models, work, samples, args)
                _write(out, report)
                section(
                    f"gpu-bench-tensorrt-{precision}",
                    f"Runtime benchmark on the GPU (TensorRT {precision}, {args.width}x{args.height})",
                    f"Frames of the synthetic `bench` preset re-rendered at {args.width}x{args.height}; engines "
                    f"{precision}.\n\n" + render_markdown(report["bench"][precision]),
                )
            if set(MODEL_STAGES) <= set(args.models):
                report["pipeline_resolution"] = _pipeline_resolution(work, args)
                _write(out, report)
                section(
                    "gpu-pipeline-resolution",
                    f"Pipeline on the GPU at {args.width}x{args.height} and crowd sizes (TensorRT)",
                    render_resolution(report["pipeline_resolution"]),
                )
        except BackendUnavailableError as exc:
            _write(out, report)
            print(f"gpu-check: {exc}", file=sys.stderr)
            return 2
    results.with_suffix(".lock").unlink(missing_ok=True)
    failed = [
        f"{p['model']} {p['precision']} {r['output']}" for p in report["parity"] for r in p["outputs"] if not r["ok"]
    ]
    if failed:
        print(f"gpu-check: outside tolerance: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"gpu-check: all outputs within tolerance; results in {out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m crowd_perception.pipeline.gpu_check``: the command without the CLI's other providers
    (whose dependencies a bare GPU image need not have)."""
    parser = argparse.ArgumentParser(prog="gpu-check", description=__doc__.splitlines()[0])
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
