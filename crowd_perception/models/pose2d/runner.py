"""ROS-free runner used by the occluded-pose node: ``estimate(image_bgr, boxes_xyxy) -> Poses2D``.

One pose per input box, in the input order. All people of a frame go through the network in one
batched call: their pixel crops (crop-mode models), or the letterboxed frame once with one RoI per
person (frame-mode models, the default; the mirrored frame too when ``flip_test`` is on). The
model file is an ONNX export (:mod:`.export`; run on ``onnxruntime`` / ``tensorrt`` / ``auto``
through :func:`crowd_perception.runtime.create_backend`) or the training ``.safetensors`` weights,
which always run on PyTorch (``backend="torch"``; for evaluating checkpoints without exporting them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...core.types import Poses2D
from ...runtime.metadata import ModelMismatchError, parse_export_info
from .crops import boxes_to_center_size, crop_transforms, letterbox_frame, warp_crops
from .postprocess import merge_flipped, merge_flipped_logits, postprocess
from .roi import roi_matrices

__all__ = ["INPUT_NAMES", "OUTPUT_NAMES", "Pose2DExportInfo", "OccludedPoseEstimator"]

OUTPUT_NAMES = ("heatmaps", "occlusion")
INPUT_NAMES = {"crop": ("images",), "frame": ("images", "rois")}  # network inputs per input mode


@dataclass(frozen=True)
class Pose2DExportInfo:
    """What the runner needs beyond the runtime's metadata (network input size, skeleton): written into
    ``ModelMetadata.extra`` by the export, read back by :class:`OccludedPoseEstimator`."""

    input_mode: str  # "crop": person crops in; "frame": the letterboxed frame and one RoI per person
    crop_size: tuple[int, int]  # (height, width) of a person crop
    stride: float  # input pixels per heatmap cell
    sigma: float  # Gaussian of the target heatmaps (sub-pixel refinement)
    box_padding: float  # context around a box, as a factor of its aspect-fixed size

    def to_extra(self) -> dict[str, Any]:
        return {"input_mode": self.input_mode, "crop_size": list(self.crop_size), "stride": self.stride,
                "sigma": self.sigma, "box_padding": self.box_padding}

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any], input_size: tuple[int, int]) -> Pose2DExportInfo:
        crop = extra.get("crop_size", input_size)
        return cls(str(extra.get("input_mode", "crop")), (int(crop[0]), int(crop[1])), float(extra.get("stride", 4)),
                   float(extra.get("sigma", 2.0)), float(extra.get("box_padding", 1.25)))


class OccludedPoseEstimator:
    """Top-down occluded pose estimation for the boxes of one image.

    ``max_batch`` splits very crowded frames into several calls (the ONNX export accepts up to
    128 people per call; in frame mode each call re-encodes the frame).
    """

    def __init__(
        self,
        model_path: Path | str,
        backend: str = "onnxruntime",
        threads: int = 1,
        flip_test: bool = False,
        refine: str = "dark",
        occlusion_threshold: float = 0.5,
        max_batch: int = 128,
    ) -> None:
        model_path = Path(model_path)
        if not model_path.is_file():
            raise FileNotFoundError(f"pose model not found: {model_path}")
        self.flip_test, self.refine, self.occlusion_threshold = flip_test, refine, occlusion_threshold
        self.max_batch = max_batch
        if backend == "torch" or model_path.suffix == ".safetensors":
            self._load_torch(model_path, threads)
        else:
            self._load_onnx(model_path, backend, threads)

    def _load_onnx(self, path: Path, backend: str, threads: int) -> None:
        from ...runtime import ModelMetadata, create_backend
        from ...runtime.metadata import metadata_path

        meta = ModelMetadata.load(metadata_path(path))
        if meta.input_size is None or meta.skeleton is None:
            raise ModelMismatchError(f"{path}: metadata lacks input_size or skeleton (not a pose2d export)")
        self.backend = create_backend(path, backend, threads=threads, metadata=meta)
        frame_size = (int(meta.input_size[0]), int(meta.input_size[1]))
        self._setup(parse_export_info(path, Pose2DExportInfo.from_extra, meta.extra, frame_size), frame_size, meta.skeleton)

    def _load_torch(self, path: Path, threads: int) -> None:
        from ...runtime.backends.torch import TorchBackend
        from .export import export_info, load_pose_model
        from .model import InferenceWrapper

        model, config = load_pose_model(path)
        info = export_info(model.config, config)
        self.backend = TorchBackend(InferenceWrapper(model), INPUT_NAMES[info.input_mode], OUTPUT_NAMES, threads=threads)
        height, width = model.config.network_input
        self._setup(info, (height, width), model.config.skeleton)

    def _setup(self, info: Pose2DExportInfo, frame_size: tuple[int, int], skeleton: str) -> None:
        self.input_mode, self.input_size, self.frame_size = info.input_mode, info.crop_size, frame_size
        self.skeleton, self.stride, self.sigma, self.padding = skeleton, info.stride, info.sigma, info.box_padding

    @property
    def name(self) -> str:
        return str(getattr(self.backend, "name", "?"))

    def _infer(self, *inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self.backend.run(dict(zip(self.backend.input_names, inputs, strict=True)))
        return out["heatmaps"], out["occlusion"]

    def transforms(self, boxes_xyxy: np.ndarray) -> np.ndarray:
        """``(N, 2, 3)`` image->crop transforms of the boxes (fixed aspect, padded)."""
        boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
        h, w = self.input_size
        centers, sizes = boxes_to_center_size(boxes, w / h, self.padding)
        return crop_transforms(centers, sizes, (h, w))

    def _network(self, image: np.ndarray, transforms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Heatmaps and occlusion logits of the people ``transforms`` cut from ``image``, in chunks of ``max_batch``."""
        if self.input_mode == "crop":
            crops = warp_crops(image, transforms, self.input_size)
            batch = np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32)
            chunks: list[tuple[np.ndarray, ...]] = [(batch[i : i + self.max_batch],) for i in range(0, len(batch), self.max_batch)]
        else:
            frame, to_input = letterbox_frame(image, self.frame_size)
            pixels = np.ascontiguousarray(frame.transpose(2, 0, 1)[None], dtype=np.float32)
            rois = roi_matrices(transforms, to_input, self.stride)
            chunks = [(pixels, rois[i : i + self.max_batch]) for i in range(0, len(rois), self.max_batch)]
        parts = [self._infer(*chunk) for chunk in chunks]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def infer(self, image: np.ndarray, boxes_xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(heatmaps, occlusion_logits, image->crop transforms)`` of the boxes (flip test merged when enabled)."""
        if not (isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 3):
            raise ValueError(f"expected an (H, W, 3) BGR image, got {getattr(image, 'shape', type(image))}")
        boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
        transforms = self.transforms(boxes)
        heatmaps, occlusion = self._network(image, transforms)
        if self.flip_test:
            # The mirrored image's crop of the mirrored box is exactly the mirrored crop (pixel centres: x -> W - 1 - x).
            width = image.shape[1]
            mirrored = np.stack([width - 1 - boxes[:, 2], boxes[:, 1], width - 1 - boxes[:, 0], boxes[:, 3]], axis=1)
            flipped, flipped_occlusion = self._network(np.ascontiguousarray(image[:, ::-1]), self.transforms(mirrored))
            heatmaps = merge_flipped(heatmaps, flipped, self.skeleton)
            occlusion = merge_flipped_logits(occlusion, flipped_occlusion, self.skeleton)
        return heatmaps, occlusion, transforms

    def estimate(self, image_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> Poses2D:
        """One :class:`Poses2D` row per box of ``boxes_xyxy (N, 4)``, in order (empty input -> empty output)."""
        boxes = np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4)
        if len(boxes) == 0:
            return Poses2D.empty(self.skeleton)
        heatmaps, occlusion, transforms = self.infer(image_bgr, boxes)
        return postprocess(
            heatmaps, occlusion, transforms, boxes, self.skeleton, self.stride, self.sigma, self.refine, self.occlusion_threshold
        )
