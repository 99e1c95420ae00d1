"""``crowd-perception export | build-engines``: every deployable model (:mod:`.registry`) at once, to
ONNX (optionally INT8) and to cached TensorRT engines."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ..utils.commands import Command
from .registry import DEFAULT_WEIGHTS_DIR, MODELS, exporter

log = logging.getLogger(__name__)


def models_argument(parser: argparse.ArgumentParser) -> None:
    """``--models`` and ``--weights-dir``, shared by these commands and the pipeline's."""
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS), help="models (default: all)")
    parser.add_argument("--weights-dir", type=Path, default=DEFAULT_WEIGHTS_DIR, help="folder of <model>.* files")


# -- export -----------------------------------------------------------------------------------------


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    models_argument(parser)
    parser.add_argument("--out-dir", type=Path, help="where to write <model>.onnx/.json (default: --weights-dir)")
    parser.add_argument("--int8", action="store_true", help="also write <model>.int8.onnx (Q/DQ, symmetric int8)")
    parser.add_argument("--calibration-frames", type=int, default=16, help="synthetic frames for INT8 calibration")
    parser.add_argument("--threads", type=int, default=1, help="torch / onnxruntime threads")


def _run_export(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(args.threads)
    logging.getLogger("onnx_ir").setLevel(logging.WARNING)  # its INFO lines list every graph pass
    out_dir = args.out_dir or args.weights_dir
    failed = []
    for name in args.models:
        entry = MODELS[name]
        weights = entry.weights(args.weights_dir)
        if not weights.is_file():
            log.error("%s: no weights at %s (train the model first)", name, weights)
            failed.append(name)
            continue
        metadata = exporter(name)(weights, entry.onnx(out_dir))
        print(f"{name}: {entry.onnx(out_dir)} sha256 {metadata.sha256[:12]} inputs {metadata.input_names}")
    if args.int8:
        from ..utils.results import markdown_table, update_results_section
        from .int8 import export_int8

        report = {n: export_int8(n, out_dir, args.calibration_frames, args.threads) for n in args.models if n not in failed}
        rows = [
            [name, out, r["calibration_batches"], r["evaluation_batches"], e["mean_abs"], e["mean_rel"], e["max_abs"]]
            for name, r in report.items()
            for out, e in r["outputs"].items()
        ]
        table = markdown_table(
            ["model", "output", "calib. batches", "eval. batches", "mean abs err", "mean err / output std", "max abs err"],
            rows,
        )
        print(table)
        if report:
            note = "INT8 (Q/DQ, symmetric, per-channel weights) vs float ONNX on ONNX Runtime CPU, feeds from `val_a` frames."
            update_results_section("runtime-int8", "INT8 quantisation error", note + "\n\n" + table)
    return 1 if failed else 0


# -- build-engines ----------------------------------------------------------------------------------


def _engines_arguments(parser: argparse.ArgumentParser) -> None:
    models_argument(parser)
    parser.add_argument("--cache-dir", type=Path, help="engine cache (default: $CROWD_PERCEPTION_ENGINE_CACHE or ~/.cache/...)")
    parser.add_argument("--precision", choices=("fp16", "fp32"), default="fp16")
    parser.add_argument("--workspace-mib", type=int, default=1024)
    parser.add_argument("--rebuild", action="store_true", help="rebuild even when a valid engine is cached")


class _PhaseBars:
    """TensorRT builder progress as one tqdm bar per active phase."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def __call__(self, phase: str, step: int, steps: int) -> None:
        from tqdm import tqdm

        bar = self.bars.get(phase)
        if bar is None:
            bar = self.bars[phase] = tqdm(total=steps or None, desc=phase, leave=False)
        bar.n = step
        bar.refresh()
        if steps and step >= steps:
            bar.close()
            self.bars.pop(phase)


def _run_engines(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..runtime.backends import BackendUnavailableError, resolve_metadata
    from ..runtime.backends.tensorrt import TensorRTBackend

    status = 0
    for name in tqdm(args.models, desc="engines", unit="model"):
        onnx_path = MODELS[name].onnx(args.weights_dir)
        if not onnx_path.is_file():
            log.error("%s: %s not found (run `crowd-perception export` first)", name, onnx_path)
            status = 1
            continue
        try:
            backend = TensorRTBackend(
                onnx_path,
                metadata=resolve_metadata(onnx_path, None),
                cache_dir=args.cache_dir,
                precision=args.precision,
                workspace_bytes=args.workspace_mib << 20,
                rebuild=args.rebuild,
                progress=_PhaseBars(),
            )
        except BackendUnavailableError as exc:
            log.error("%s: %s", name, exc)
            status = 1
            continue
        tqdm.write(f"{name}: {'built' if backend.built else 'up to date'} {backend.engine_path}")
        backend.close()
    return status


COMMANDS = [
    Command(("export",), "export each model's safetensors weights to ONNX + metadata", _export_arguments, _run_export),
    Command(("build-engines",), "build (or validate) the TensorRT engine cache ahead of time", _engines_arguments, _run_engines),
]
