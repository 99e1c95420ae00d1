"""ROS-free runner used by the occluded-pose node: ``estimate(image_bgr, boxes_xyxy) -> Poses2D``.

One pose per input box, in the input order. All crops of a frame go through the network in one
batched call (the mirrored crops too when ``flip_test`` is on). The model file is an ONNX export
(:mod:`.export`; run on ``onnxruntime`` / ``tensorrt`` / ``auto`` through
:func:`crowd_perception.runtime.create_backend`) or the training ``.safetensors`` weights, which
always run on PyTorch (``backend="torch"``; for evaluating checkpoints without exporting them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...core.types import Poses2D
from .crops import boxes_to_center_size, crop_transforms, warp_crops
from .postprocess import merge_flipped, merge_flipped_logits, postprocess

__all__ = ["OccludedPoseEstimator"]


class OccludedPoseEstimator:
    """Top-down occluded pose estimation for the boxes of one image.

    ``max_batch`` splits very crowded frames into several calls (the ONNX export accepts up to
    128 crops per call).
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
            raise ValueError(f"{path}: metadata lacks input_size or skeleton (not a pose2d export)")
        self.backend = create_backend(path, backend, threads=threads, metadata=meta)
        self.input_size = tuple(meta.input_size)
        self.skeleton = meta.skeleton
        self.stride = float(meta.extra.get("stride", 4))
        self.sigma = float(meta.extra.get("sigma", 2.0))
        self.padding = float(meta.extra.get("box_padding", 1.25))
        self.name = self.backend.name

        def infer(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            out = self.backend.run({self.backend.input_names[0]: batch})
            return out["heatmaps"], out["occlusion"]

        self._infer = infer

    def _load_torch(self, path: Path, threads: int) -> None:
        import torch

        from .data import ASPECT_PADDING
        from .export import load_pose_model
        from .model import InferenceWrapper

        torch.set_num_threads(threads)
        model, config = load_pose_model(path)
        wrapper = InferenceWrapper(model).eval()
        cfg = model.config
        self.input_size = (cfg.input_height, cfg.input_width)
        self.skeleton, self.stride = cfg.skeleton, float(cfg.stride)
        self.sigma = float(config.get("augment", {}).get("sigma", 2.0))
        self.padding = ASPECT_PADDING
        self.name = "torch"

        def infer(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            with torch.inference_mode():
                heatmaps, occlusion = wrapper(torch.from_numpy(batch))
            return heatmaps.numpy(), occlusion.numpy()

        self._infer = infer

    def crops(self, image_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(N, h, w, 3)`` uint8 crops and their ``(N, 2, 3)`` image->crop transforms."""
        if not (isinstance(image_bgr, np.ndarray) and image_bgr.ndim == 3 and image_bgr.shape[2] == 3):
            raise ValueError(f"expected an (H, W, 3) BGR image, got {getattr(image_bgr, 'shape', type(image_bgr))}")
        boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
        h, w = self.input_size
        centers, sizes = boxes_to_center_size(boxes, w / h, self.padding)
        transforms = crop_transforms(centers, sizes, (h, w))
        return warp_crops(image_bgr, transforms, (h, w)), transforms

    def infer_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Heatmaps and occlusion logits of ``(N, h, w, 3)`` crops (flip test merged when enabled)."""
        batch = np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32)
        n = len(batch)
        if self.flip_test:
            batch = np.concatenate([batch, batch[..., ::-1]])
        parts = [self._infer(np.ascontiguousarray(batch[i : i + self.max_batch])) for i in range(0, len(batch), self.max_batch)]
        heatmaps = np.concatenate([p[0] for p in parts])
        occlusion = np.concatenate([p[1] for p in parts])
        if self.flip_test:
            heatmaps = merge_flipped(heatmaps[:n], heatmaps[n:], self.skeleton)
            occlusion = merge_flipped_logits(occlusion[:n], occlusion[n:], self.skeleton)
        return heatmaps, occlusion

    def estimate_crops(self, crops: np.ndarray, transforms: np.ndarray, boxes_xyxy: np.ndarray) -> Poses2D:
        """Poses from already cut crops (used by the occlusion benchmark, which edits the crops)."""
        if len(crops) == 0:
            return Poses2D.empty(self.skeleton)
        heatmaps, occlusion = self.infer_crops(crops)
        return postprocess(
            heatmaps, occlusion, transforms, np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4), self.skeleton,
            self.stride, self.sigma, self.refine, self.occlusion_threshold,
        )

    def estimate(self, image_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> Poses2D:
        """One :class:`Poses2D` row per box of ``boxes_xyxy (N, 4)``, in order (empty input -> empty output)."""
        crops, transforms = self.crops(image_bgr, boxes_xyxy)
        return self.estimate_crops(crops, transforms, boxes_xyxy)
