"""Export trained pose weights to ONNX (dynamic batch) with the runtime's metadata, and check parity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ...runtime import create_backend
from ...runtime.export import ExportSpec, export_onnx, parity
from ...runtime.metadata import ModelMetadata
from ...training import load_weights
from .data import ASPECT_PADDING
from .model import InferenceWrapper, OccludedPoseNet, PoseNetConfig

__all__ = ["load_pose_model", "export_pose"]

INPUT_NAMES = ("images",)
OUTPUT_NAMES = ("heatmaps", "occlusion")


def load_pose_model(weights_path: Path | str) -> tuple[OccludedPoseNet, dict]:
    """The network (eval mode) and its full training config dict from a ``.safetensors`` weights file."""
    state, config = load_weights(weights_path)
    model = OccludedPoseNet(PoseNetConfig.from_dict(config["model"]))
    model.load_state_dict(state)
    return model.eval(), config


def export_pose(weights_path: Path | str, onnx_path: Path | str, max_batch: int = 128) -> ModelMetadata:
    """Write ``onnx_path`` (+ ``.json`` metadata) for crops of any batch size in ``[1, max_batch]``.

    The graph takes ``(N, 3, H, W)`` float BGR pixels in [0, 255] (normalisation is inside) and
    returns the target heatmaps and per-joint occlusion logits. Raises if onnxruntime disagrees
    with PyTorch beyond ``1e-3`` relative / ``1e-4`` absolute.
    """
    model, config = load_pose_model(weights_path)
    cfg = model.config
    wrapper = InferenceWrapper(model).eval()
    example = torch.rand(2, 3, cfg.input_height, cfg.input_width) * 255
    spec = ExportSpec(
        name="pose2d",
        module=wrapper,
        example_inputs=(example,),
        input_names=INPUT_NAMES,
        output_names=OUTPUT_NAMES,
        dynamic_batch={"images": (1, 16, max_batch)},
        input_size=(cfg.input_height, cfg.input_width),
        skeleton=cfg.skeleton,
        extra={
            "stride": cfg.stride,
            "sigma": float(config.get("augment", {}).get("sigma", 2.0)),
            "box_padding": ASPECT_PADDING,
            "pixels": "BGR float32 in [0, 255], normalised inside the graph",
        },
    )
    metadata = export_onnx(spec, onnx_path)
    backend = create_backend(onnx_path, "onnxruntime")
    check = np.random.default_rng(0).uniform(0, 255, (3, 3, cfg.input_height, cfg.input_width)).astype(np.float32)
    report = parity(wrapper, backend, [check])
    if not report.ok:
        raise RuntimeError(f"ONNX export of {weights_path} disagrees with PyTorch: {report}")
    return metadata
