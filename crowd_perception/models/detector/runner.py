"""``PedestrianDetector``: the node-facing detector — one BGR image in, :class:`Detections` out.

Loads the model once: an ``.onnx`` file through :func:`crowd_perception.runtime.create_backend`
(ONNX Runtime / TensorRT; input size, normalisation, strides and post-processing settings come
from the metadata JSON written at export), or a ``.safetensors`` file through PyTorch
(``backend="torch"``, for evaluation before export). Pre-processing is the runtime's letterbox;
post-processing is :func:`.postprocess.postprocess`; boxes are mapped back to source pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ...core.types import Detections
from ...runtime.backends.base import Backend
from ...runtime.metadata import ModelMetadata, ModelMismatchError, Normalization, parse_export_info
from ...runtime.preprocess import prepare_batch
from .postprocess import OUTPUT_NAMES, PostprocessConfig, anchor_points, postprocess

__all__ = ["INPUT_NAME", "DetectorExportInfo", "PedestrianDetector"]

INPUT_NAME = "images"


@dataclass(frozen=True)
class DetectorExportInfo:
    """What the runner needs beyond the runtime's metadata: written into ``ModelMetadata.extra`` by the
    export, read back by :class:`PedestrianDetector`. ``postprocess.score_threshold`` is the model's own
    floor (its card states it); the pipeline's operating point is above it."""

    strides: tuple[int, ...]
    embedding_dim: int
    backbone: str = ""
    postprocess: PostprocessConfig = field(default_factory=PostprocessConfig)

    def to_extra(self) -> dict[str, Any]:
        return {"strides": list(self.strides), "embedding_dim": self.embedding_dim, "backbone": self.backbone,
                "postprocess": asdict(self.postprocess)}

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any]) -> DetectorExportInfo:
        return cls(tuple(int(s) for s in extra["strides"]), int(extra.get("embedding_dim", 0)),
                   str(extra.get("backbone", "")), PostprocessConfig(**extra.get("postprocess", {})))

    @classmethod
    def of_network(cls, module: Any, post: PostprocessConfig) -> DetectorExportInfo:
        """The info of an in-memory ``PedestrianDetectorNet``."""
        return cls(tuple(module.strides), module.cfg.embedding_dim, module.cfg.backbone, post)


def _load_torch(path: Path) -> tuple[Any, tuple[int, int], DetectorExportInfo]:
    """Network, input size and export info of a ``.safetensors`` weights file."""
    from ...runtime.weights import load_weights
    from ...utils.configs import config_from_dict
    from .model import DetectorConfig, PedestrianDetectorNet

    state, config = load_weights(path)
    if "model" not in config:
        raise ModelMismatchError(f"{path}: not detector weights (its config has no 'model' section)")
    model_cfg = config_from_dict(DetectorConfig, config["model"])
    net = PedestrianDetectorNet(model_cfg)
    net.load_state_dict(state)
    height, width = model_cfg.input_size
    return net, (height, width), DetectorExportInfo.of_network(net, PostprocessConfig(**config.get("post", {})))


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
        self.backend: Backend
        if path.suffix == ".safetensors" or backend == "torch":
            if path.suffix != ".safetensors":
                raise ValueError(f"the torch backend loads .safetensors weights, got {path.name}")
            from ...runtime.backends.torch import TorchBackend

            net, input_size, info = _load_torch(path)
            self.backend = TorchBackend(net, [INPUT_NAME], OUTPUT_NAMES, backend_options.get("device", "cpu"))
            normalization = Normalization()
        else:
            from ...runtime import create_backend

            self.backend = create_backend(path, backend, threads=threads, **backend_options)
            input_size, normalization, info = _from_metadata(path, self.backend.metadata)
        self._setup(input_size, normalization, info, score_threshold, nms_iou)

    @classmethod
    def from_torch(
        cls, module: Any, input_size: tuple[int, int], post: PostprocessConfig, device: str = "cpu"
    ) -> PedestrianDetector:
        """Wrap an in-memory torch network (evaluation during training)."""
        from ...runtime.backends.torch import TorchBackend

        self = cls.__new__(cls)
        self.backend = TorchBackend(module, [INPUT_NAME], OUTPUT_NAMES, device)
        self._setup(input_size, Normalization(), DetectorExportInfo.of_network(module, post), None, None)
        return self

    def _setup(self, input_size: tuple[int, int], normalization: Normalization, info: DetectorExportInfo,
               score_threshold: float | None, nms_iou: float | None) -> None:
        self.input_size = input_size
        self.normalization = normalization
        self.strides, self.embedding_dim = list(info.strides), info.embedding_dim
        post = info.postprocess
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


def _from_metadata(path: Path, meta: ModelMetadata | None) -> tuple[tuple[int, int], Normalization, DetectorExportInfo]:
    """Input size, normalisation and export info from the metadata beside an exported detector."""
    if meta is None or meta.input_size is None or "strides" not in meta.extra:
        raise ModelMismatchError(f"{path}: the detector needs its export metadata (input size, strides) beside the model")
    height, width = meta.input_size
    return (height, width), meta.normalization or Normalization(), parse_export_info(path, DetectorExportInfo.from_extra, meta.extra)
