"""``PedestrianDetector``: the node-facing detector — one BGR image in, :class:`Detections` out.

Loads the model once: an ``.onnx`` file through :func:`crowd_perception.runtime.create_backend`
(ONNX Runtime / TensorRT; input size, normalisation, strides and post-processing settings come
from the metadata JSON written at export), or a ``.safetensors`` file through PyTorch
(``backend="torch"``, for evaluation before export). Pre-processing is the runtime's letterbox;
post-processing is :func:`.postprocess.postprocess`; boxes are mapped back to source pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from ...core.types import Detections
from ...runtime.metadata import Normalization
from ...runtime.preprocess import prepare_batch
from .postprocess import OUTPUT_NAMES, PostprocessConfig, anchor_points, postprocess

__all__ = ["INPUT_NAME", "TorchBackend", "PedestrianDetector"]

INPUT_NAME = "images"


class TorchBackend:
    """A torch module behind the runtime's backend interface (``run(feeds) -> {name: array}``)."""

    name = "torch"

    def __init__(self, module: Any, device: str = "cpu") -> None:
        import torch

        self.input_names = [INPUT_NAME]
        self.output_names = list(OUTPUT_NAMES)
        self.torch = torch
        self.device = torch.device(device)
        self.module = module.to(self.device).eval()

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        with self.torch.inference_mode():
            outputs = self.module(self.torch.from_numpy(feeds[INPUT_NAME]).to(self.device))
        return {n: o.float().cpu().numpy() for n, o in zip(OUTPUT_NAMES, outputs, strict=True)}


def _load_torch(path: Path, device: str) -> tuple[TorchBackend, dict[str, Any]]:
    from ...training.checkpoint import load_weights
    from ...training.config import config_from_dict
    from .model import DetectorConfig, PedestrianDetectorNet

    state, config = load_weights(path)
    if "model" not in config:
        raise ValueError(f"{path}: not detector weights (its config has no 'model' section)")
    model_cfg = config_from_dict(DetectorConfig, config["model"])
    net = PedestrianDetectorNet(model_cfg)
    net.load_state_dict(state)
    info = {
        "input_size": tuple(model_cfg.input_size),
        "strides": list(net.strides),
        "embedding_dim": model_cfg.embedding_dim,
        "postprocess": config.get("post", {}),
        "normalization": Normalization(),
    }
    return TorchBackend(net, device), info


class PedestrianDetector:
    """Detect pedestrians (with JDE embeddings) in BGR images.

    ``model_path``: ``.onnx`` (with its metadata ``.json`` beside it) or ``.safetensors``.
    ``backend``: a runtime backend name (``"onnxruntime"``, ``"tensorrt"``, ``"auto"``, ...) or
    ``"torch"``. ``score_threshold`` / ``nms_iou`` override the exported post-processing settings.
    """

    def __init__(
        self,
        model_path: str | Path,
        backend: str = "onnxruntime",
        threads: int = 1,
        score_threshold: float | None = None,
        nms_iou: float | None = None,
        **backend_options: Any,
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"detector model not found: {path}")
        if path.suffix == ".safetensors" or backend == "torch":
            if path.suffix != ".safetensors":
                raise ValueError(f"the torch backend loads .safetensors weights, got {path.name}")
            self.backend, info = _load_torch(path, backend_options.get("device", "cpu"))
        else:
            from ...runtime import create_backend

            self.backend = create_backend(path, backend, threads=threads, **backend_options)
            info = self._info_from_metadata(path)
        self._setup(info, score_threshold, nms_iou)

    @classmethod
    def from_module(
        cls, module: Any, input_size: tuple[int, int], post: PostprocessConfig, device: str = "cpu"
    ) -> PedestrianDetector:
        """Wrap an in-memory torch network (evaluation during training)."""
        self = cls.__new__(cls)
        self.backend = TorchBackend(module, device)
        info = {
            "input_size": tuple(input_size),
            "strides": list(module.strides),
            "embedding_dim": module.cfg.embedding_dim,
            "postprocess": asdict(post),
            "normalization": Normalization(),
        }
        self._setup(info, None, None)
        return self

    def _info_from_metadata(self, path: Path) -> dict[str, Any]:
        meta = getattr(self.backend, "metadata", None)
        if meta is None or meta.input_size is None or "strides" not in meta.extra:
            raise ValueError(f"{path}: the detector needs its export metadata (input size, strides) beside the model")
        return {
            "input_size": tuple(meta.input_size),
            "strides": list(meta.extra["strides"]),
            "embedding_dim": int(meta.extra.get("embedding_dim", 0)),
            "postprocess": meta.extra.get("postprocess", {}),
            "normalization": meta.normalization or Normalization(),
        }

    def _setup(self, info: dict[str, Any], score_threshold: float | None, nms_iou: float | None) -> None:
        self.input_size: tuple[int, int] = info["input_size"]
        self.strides: list[int] = info["strides"]
        self.embedding_dim: int = info["embedding_dim"]
        self.normalization: Normalization = info["normalization"]
        post = PostprocessConfig(**info["postprocess"])
        if score_threshold is not None:
            post = replace(post, score_threshold=score_threshold)
        if nms_iou is not None:
            post = replace(post, nms_iou=nms_iou)
        self.post = post
        self.points, self.point_strides = anchor_points(*self.input_size, self.strides)

    def raw(self, images_bgr: Sequence[np.ndarray]) -> tuple[dict[str, np.ndarray], list]:
        """Raw head outputs for a batch of images and their letterbox transforms."""
        batch, transforms = prepare_batch(list(images_bgr), self.input_size, self.normalization)
        return self.backend.run({INPUT_NAME: batch}), transforms

    def detect_batch(self, images_bgr: Sequence[np.ndarray]) -> list[Detections]:
        """:meth:`detect` for several images (one network call)."""
        if len(images_bgr) == 0:
            return []
        outputs, transforms = self.raw(images_bgr)
        results = postprocess(outputs, self.points, self.point_strides, self.post)
        return [
            Detections(t.boxes_to_source(d.boxes), d.scores, embeddings=d.embeddings)
            for d, t in zip(results, transforms, strict=True)
        ]

    def detect(self, image_bgr: np.ndarray) -> Detections:
        """Pedestrians in one ``(H, W, 3)`` uint8 BGR image: full-body xyxy boxes in its pixels, scores
        ``sqrt(cls * iou)``, L2-normalised embeddings, sorted by score."""
        return self.detect_batch([image_bgr])[0]
