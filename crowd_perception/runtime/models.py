"""Registry of the deployable models: where their weights live, how to export them, how to run them.

Entries name functions in the model packages as ``"module:attribute"`` strings, imported only when
used, so the runtime (and ``crowd-perception --help``) never imports torch or a model package it
does not need. Each model area owns the functions named here:

- ``export``: ``(weights_path, onnx_path) -> ModelMetadata`` — writes the ONNX and its metadata and
  checks PyTorch/ONNX Runtime parity;
- ``runner``: the ROS-free runner class, ``Runner(model_path, backend=..., threads=...)``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ModelEntry", "MODELS", "DEFAULT_WEIGHTS_DIR", "get_model", "resolve", "load_runner"]

DEFAULT_WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"


@dataclass(frozen=True)
class ModelEntry:
    """One deployable model and the functions (``"module:attribute"``) that export and run it."""

    name: str
    export: str
    runner: str
    description: str

    def weights(self, weights_dir: Path | str = DEFAULT_WEIGHTS_DIR) -> Path:
        return Path(weights_dir) / f"{self.name}.safetensors"

    def onnx(self, weights_dir: Path | str = DEFAULT_WEIGHTS_DIR, variant: str = "") -> Path:
        """``<name>.onnx``, or ``<name>.<variant>.onnx`` (e.g. ``int8``)."""
        return Path(weights_dir) / (f"{self.name}.{variant}.onnx" if variant else f"{self.name}.onnx")


MODELS: dict[str, ModelEntry] = {
    entry.name: entry
    for entry in (
        ModelEntry(
            "detector",
            "crowd_perception.models.detector.export:export_detector",
            "crowd_perception.models.detector.runner:PedestrianDetector",
            "FPN pedestrian detector (LLA assignment) with JDE embeddings",
        ),
        ModelEntry(
            "pose2d",
            "crowd_perception.models.pose2d.export:export_pose",
            "crowd_perception.models.pose2d.runner:OccludedPoseEstimator",
            "top-down occluded 2D pose (RSGNet + multi-task occlusion), batched crops",
        ),
        ModelEntry(
            "pose3d",
            "crowd_perception.models.pose3d.export:export_pose3d",
            "crowd_perception.models.pose3d.runner:Pose3DEstimator",
            "single-shot multi-person 3D pose (PandaNet)",
        ),
    )
}


def get_model(name: str) -> ModelEntry:
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known: {sorted(MODELS)}") from None


def resolve(target: str) -> Any:
    """Import ``"package.module:attribute"`` and return the attribute, with a clear error if absent."""
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"{target}: cannot import {module_name} ({exc})") from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImportError(f"{target}: {module_name} has no {attribute!r}") from None


def load_runner(name: str, model_path: Path | str, backend: str = "onnxruntime", threads: int = 1) -> Any:
    """The model's ROS-free runner on ``backend``, loaded from ``model_path``."""
    return resolve(get_model(name).runner)(model_path, backend=backend, threads=threads)
