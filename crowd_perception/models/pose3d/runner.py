"""``Pose3DEstimator``: the ROS-free 3D pose runner used by the node and the evaluation.

Loads a model once — an ONNX file on any runtime backend (its metadata JSON carries the model
config: anchors, input size, body-size prior) or a safetensors checkpoint on PyTorch — then per
image: letterbox, one forward pass, numpy readout (``postprocess``), mapping back to image
pixels, and camera-frame placement (``placement``). Without intrinsics the poses are placed with
a default camera and flagged ``placed_with_intrinsics = False``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...core.camera import PinholeCamera
from ...core.types import Poses3D
from ...runtime.metadata import ModelMismatchError, parse_export_info
from ...runtime.preprocess import prepare_batch
from .data import normalization_for
from .model import INPUT_NAME, OUTPUT_NAMES, ModelConfig
from .placement import BodySizePrior, default_camera, place_poses
from .postprocess import PostprocessConfig, postprocess

__all__ = ["Pose3DExportInfo", "Pose3DEstimator", "model_config_from_dict"]


def model_config_from_dict(data: dict[str, Any]) -> ModelConfig:
    from ...utils.configs import config_from_dict

    return config_from_dict(ModelConfig, data)


@dataclass(frozen=True)
class Pose3DExportInfo:
    """What the runner needs beyond the runtime's metadata: the whole model config (input size,
    anchors, body-size prior, calibrated score threshold), written into ``ModelMetadata.extra`` by the
    export and read back by :class:`Pose3DEstimator`."""

    model: ModelConfig

    def to_extra(self) -> dict[str, Any]:
        return {"model": dataclasses.asdict(self.model)}

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any]) -> Pose3DExportInfo:
        return cls(model_config_from_dict(dict(extra["model"])))


def _torch_backend(model: Any, threads: int | None = None) -> Any:
    from ...runtime.backends.torch import TorchBackend

    return TorchBackend(model, [INPUT_NAME], OUTPUT_NAMES, threads=threads)


class Pose3DEstimator:
    """``estimate(image_bgr, camera) -> Poses3D`` for every person in the image, in one forward pass.

    ``last_timing`` holds the wall time of the last call (``total_ms``, and ``network_ms`` for the
    backend's forward pass alone).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        backend: str = "onnxruntime",
        threads: int = 1,
        postprocess_config: PostprocessConfig | None = None,
    ) -> None:
        if model_path is None:
            raise ValueError("give a model path (.onnx or .safetensors), or use Pose3DEstimator.from_torch")
        if Path(model_path).suffix == ".safetensors":
            runtime_backend, config = self._load_torch(Path(model_path), threads)
        else:
            from ...runtime import create_backend

            runtime_backend = create_backend(model_path, backend, threads=threads)
            meta = runtime_backend.metadata
            if meta is None or "model" not in meta.extra:
                raise ModelMismatchError(f"{model_path}: no pose3d model config in its metadata JSON")
            config = parse_export_info(model_path, Pose3DExportInfo.from_extra, meta.extra).model
        self._setup(runtime_backend, config, postprocess_config)

    @classmethod
    def from_torch(cls, model: Any, postprocess_config: PostprocessConfig | None = None) -> Pose3DEstimator:
        """Wrap an in-memory ``PandaNet`` (evaluation during training), on the device it is on."""
        self = cls.__new__(cls)
        self._setup(_torch_backend(model), model.config, postprocess_config)
        return self

    def _setup(self, backend: Any, config: ModelConfig, postprocess_config: PostprocessConfig | None) -> None:
        self.last_timing: dict[str, float] = {}
        self.backend, self.config = backend, config
        self.anchors = self.config.anchor_boxes()
        self.postprocess_config = postprocess_config or PostprocessConfig(score_threshold=self.config.score_threshold)
        self.prior = BodySizePrior(self.config.body_size_mean_m, self.config.body_size_std_m)

    @staticmethod
    def _load_torch(path: Path, threads: int) -> tuple[Any, ModelConfig]:
        from ...runtime.weights import load_weights
        from .model import PandaNet

        state, config = load_weights(path)
        model_cfg = model_config_from_dict(config["model"])
        model = PandaNet(model_cfg)
        model.load_state_dict(state)
        return _torch_backend(model, threads), model_cfg

    @property
    def input_size(self) -> tuple[int, int]:
        return self.config.input_height, self.config.input_width

    def estimate(self, image_bgr: np.ndarray, camera: PinholeCamera | None = None) -> Poses3D:
        """3D poses of everyone in ``image_bgr`` (``(H, W, 3)`` uint8 BGR); ``camera`` for this image size."""
        start = time.perf_counter()
        batch, (transform,) = prepare_batch([image_bgr], self.input_size, normalization_for(self.config))
        network_start = time.perf_counter()
        out = self.backend.run({INPUT_NAME: batch})
        network_end = time.perf_counter()
        readout = postprocess(
            out["scores"][0], out["boxes"][0], out["pose2d"][0], out["pose3d"][0], self.anchors, self.postprocess_config
        )
        height, width = image_bgr.shape[:2]
        placed_with_intrinsics = camera is not None
        if camera is None:
            camera = default_camera(width, height)
        elif (camera.width, camera.height) != (width, height):
            raise ValueError(f"camera is for {camera.width}x{camera.height} images, got a {width}x{height} image")
        keypoints = transform.points_to_source(readout.keypoints)
        joints_camera = place_poses(keypoints, readout.poses, camera, self.prior.mean_m)
        n, k = len(readout), readout.poses.shape[1]
        poses = Poses3D(
            self.config.skeleton,
            readout.poses * self.prior.mean_m,
            joints_camera=joints_camera,
            scores=np.repeat(readout.scores[:, None], k, axis=1),
            boxes=transform.boxes_to_source(readout.boxes),
            person_scores=readout.scores,
            placed_with_intrinsics=np.full(n, placed_with_intrinsics),
        )
        end = time.perf_counter()
        self.last_timing = {"total_ms": 1000 * (end - start), "network_ms": 1000 * (network_end - network_start)}
        return poses
