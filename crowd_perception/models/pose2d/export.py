"""Export trained pose weights to ONNX (dynamic batch) with the runtime's metadata, and check parity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ...runtime import create_backend
from ...runtime.export import ExportSpec, export_onnx, parity
from ...runtime.metadata import ModelMetadata
from ...runtime.weights import load_weights
from .crops import boxes_to_center_size, crop_transforms
from .data import ASPECT_PADDING
from .model import InferenceWrapper, OccludedPoseNet, PoseNetConfig
from .roi import roi_matrices
from .runner import INPUT_NAMES, OUTPUT_NAMES, Pose2DExportInfo

__all__ = ["load_pose_model", "export_info", "export_pose"]


def load_pose_model(weights_path: Path | str) -> tuple[OccludedPoseNet, dict]:
    """The network (eval mode) and its full training config dict from a ``.safetensors`` weights file."""
    state, config = load_weights(weights_path)
    model = OccludedPoseNet(PoseNetConfig.from_dict(config["model"]))
    model.load_state_dict(state)
    return model.eval(), config


def export_info(cfg: PoseNetConfig, config: dict) -> Pose2DExportInfo:
    """The runner's export info of a network config and its training config dict."""
    return Pose2DExportInfo(cfg.input_mode, (cfg.input_height, cfg.input_width), float(cfg.stride),
                            float(config.get("augment", {}).get("sigma", 2.0)), ASPECT_PADDING)


def export_pose(weights_path: Path | str, onnx_path: Path | str, max_batch: int = 128) -> ModelMetadata:
    """Write ``onnx_path`` (+ ``.json`` metadata) for any number of people in ``[1, max_batch]``.

    Crop mode: ``images (N, 3, h, w)`` person crops. Frame mode: ``images (1, 3, H, W)``, the
    letterboxed frame, and ``rois (N, 2, 3)`` heatmap->input affine maps (:mod:`.roi`). Pixels are
    float BGR in [0, 255] (normalisation is inside). Outputs: the target heatmaps and per-joint
    occlusion logits. Raises if onnxruntime disagrees with PyTorch beyond ``1e-3`` relative / ``1e-4`` absolute.
    """
    model, config = load_pose_model(weights_path)
    cfg = model.config
    wrapper = InferenceWrapper(model).eval()
    rng = np.random.default_rng(0)
    crop_size = (cfg.input_height, cfg.input_width)
    if cfg.input_mode == "frame":
        names, dynamic = INPUT_NAMES["frame"], {"rois": (1, 16, max_batch)}
        check = [rng.uniform(0, 255, (1, 3, *cfg.network_input)).astype(np.float32), _example_rois(cfg, 3, rng)]
        example: tuple[torch.Tensor, ...] = (torch.from_numpy(check[0]), torch.from_numpy(check[1][:2]))
    else:
        names, dynamic = INPUT_NAMES["crop"], {"images": (1, 16, max_batch)}
        check = [rng.uniform(0, 255, (3, 3, *crop_size)).astype(np.float32)]
        example = (torch.from_numpy(check[0][:2]),)
    spec = ExportSpec(
        name="pose2d",
        module=wrapper,
        example_inputs=example,
        input_names=names,
        output_names=OUTPUT_NAMES,
        dynamic_batch=dynamic,
        input_size=cfg.network_input,
        skeleton=cfg.skeleton,
        extra={**export_info(cfg, config).to_extra(), "pixels": "BGR float32 in [0, 255], normalised inside the graph"},
    )
    metadata = export_onnx(spec, onnx_path)
    backend = create_backend(onnx_path, "onnxruntime")
    report = parity(wrapper, backend, check)
    if not report.ok:
        raise RuntimeError(f"ONNX export of {weights_path} disagrees with PyTorch: {report}")
    return metadata


def _example_rois(cfg: PoseNetConfig, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random person RoIs inside a frame of the network's input size (export examples, parity checks)."""
    height, width = cfg.network_input
    heights = rng.uniform(0.2, 0.8, count) * height
    cx, cy = rng.uniform(0.2, 0.8, count) * width, rng.uniform(0.3, 0.7, count) * height
    boxes = np.stack([cx - 0.2 * heights, cy - heights / 2, cx + 0.2 * heights, cy + heights / 2], axis=1)
    centers, sizes = boxes_to_center_size(boxes, cfg.input_width / cfg.input_height, ASPECT_PADDING)
    return roi_matrices(crop_transforms(centers, sizes, (cfg.input_height, cfg.input_width)), np.eye(2, 3), cfg.stride)
