"""INT8 variants of the registered models, calibrated on the inputs their runners really produce.

The float runner runs on synthetic ``train_a`` frames with its backend wrapped in a recording
:class:`~crowd_perception.runtime.bench.StageClock`; those feeds (letterboxed frames, batched person crops) calibrate
``quantize_static``. The accuracy cost is then measured on feeds recorded from ``val_a`` frames:
per-output error of the INT8 model against the float model.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from ..runtime.backends import create_backend
from ..runtime.bench import instrument, runner_call
from ..runtime.quantize import output_error, quantize_int8
from .registry import MODELS, load_runner

__all__ = ["recorded_feeds", "export_int8"]


def recorded_feeds(name: str, onnx_path: Path, preset: str, frames: int, threads: int, seed: int) -> list[dict[str, np.ndarray]]:
    """The backend feeds of model ``name``'s runner on ``frames`` synthetic frames of ``preset``."""
    from ..synth import generate

    runner = load_runner(name, onnx_path, threads=threads)
    clock = instrument(runner, keep_feeds=True)
    for sample in islice(generate(preset, seed=seed), frames):
        runner_call(name, runner, sample)()
    return clock.feeds


def export_int8(name: str, model_dir: Path, frames: int = 16, threads: int = 1, seed: int = 0) -> dict[str, Any]:
    """Write ``<name>.int8.onnx`` (+ metadata) next to ``<name>.onnx``; return its measured output error."""
    onnx_path = MODELS[name].onnx(model_dir)
    calibration = recorded_feeds(name, onnx_path, "train_a", frames, threads, seed)
    evaluation = recorded_feeds(name, onnx_path, "val_a", max(frames // 2, 1), threads, seed + 1)
    quantized = MODELS[name].onnx(model_dir, "int8")
    quantize_int8(onnx_path, quantized, calibration)
    fp32, int8 = create_backend(onnx_path, threads=threads), create_backend(quantized, threads=threads)
    errors = [output_error(fp32.run(feed), int8.run(feed)) for feed in evaluation]
    return {
        "int8_model": str(quantized),
        "calibration_batches": len(calibration),
        "evaluation_batches": len(errors),
        "outputs": {
            out: {
                "max_abs": max(e[out]["max_abs"] for e in errors),
                "mean_abs": float(np.mean([e[out]["mean_abs"] for e in errors])),
                "mean_rel": float(np.mean([e[out]["mean_rel"] for e in errors])),
            }
            for out in fp32.output_names
        },
    }
