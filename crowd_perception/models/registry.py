"""The deployable models: where their files live, and the functions that export and run them.

:func:`exporter` and :func:`runner_class` import the model package they name with a plain import
inside the function, so a reader can follow ``load_runner("detector", ...)`` to
:class:`~crowd_perception.models.detector.runner.PedestrianDetector`, and importing the registry
(``crowd-perception --help``) loads neither torch nor a model package. Each model area owns:

- the exporter: ``(weights_path, onnx_path) -> ModelMetadata`` — writes the ONNX and its metadata
  and checks PyTorch/ONNX Runtime parity;
- the runner class: ``Runner(model_path, backend=..., threads=..., **options)``, ROS-free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..runtime.metadata import ModelMetadata

__all__ = [
    "ModelEntry",
    "MODELS",
    "DEFAULT_WEIGHTS_DIR",
    "Exporter",
    "get_model",
    "exporter",
    "runner_class",
    "load_runner",
]

DEFAULT_WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"

Exporter = Callable[[Path, Path], "ModelMetadata"]


@dataclass(frozen=True)
class ModelEntry:
    """One deployable model: its name (the stem of its files) and what it does."""

    name: str
    description: str

    def weights(self, weights_dir: Path | str = DEFAULT_WEIGHTS_DIR) -> Path:
        return Path(weights_dir) / f"{self.name}.safetensors"

    def onnx(self, weights_dir: Path | str = DEFAULT_WEIGHTS_DIR, variant: str = "") -> Path:
        """``<name>.onnx``, or ``<name>.<variant>.onnx`` (e.g. ``int8``)."""
        return Path(weights_dir) / (f"{self.name}.{variant}.onnx" if variant else f"{self.name}.onnx")


MODELS: dict[str, ModelEntry] = {
    entry.name: entry
    for entry in (
        ModelEntry("detector", "FPN pedestrian detector (LLA assignment) with JDE embeddings"),
        ModelEntry("pose2d", "top-down occluded 2D pose (RSGNet + multi-task occlusion), batched crops"),
        ModelEntry("pose3d", "single-shot multi-person 3D pose (PandaNet)"),
    )
}


def get_model(name: str) -> ModelEntry:
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known: {sorted(MODELS)}") from None


def exporter(name: str) -> Exporter:
    """The export function of model ``name``."""
    get_model(name)
    if name == "detector":
        from .detector.export import export_detector

        return export_detector
    if name == "pose2d":
        from .pose2d.export import export_pose

        return export_pose
    from .pose3d.export import export_pose3d

    return export_pose3d


def runner_class(name: str) -> Callable[..., Any]:
    """The ROS-free runner class of model ``name``."""
    get_model(name)
    if name == "detector":
        from .detector.runner import PedestrianDetector

        return PedestrianDetector
    if name == "pose2d":
        from .pose2d.runner import OccludedPoseEstimator

        return OccludedPoseEstimator
    from .pose3d.runner import Pose3DEstimator

    return Pose3DEstimator


def load_runner(name: str, model_path: Path | str, backend: str = "onnxruntime", threads: int = 1) -> Any:
    """The model's ROS-free runner on ``backend``, loaded from ``model_path``."""
    return runner_class(name)(model_path, backend=backend, threads=threads)
