"""PandaNet weights -> ONNX + metadata JSON (the runtime registry's ``export`` entry for ``pose3d``).

The metadata's ``extra["model"]`` carries the whole model config (input size, anchors, body-size
prior), so an ONNX file and its JSON are all a runner needs. Scores, boxes and poses leave the
graph raw; thresholds, NMS and placement stay in the numpy ``postprocess`` / ``placement``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...runtime.export import ExportSpec, export_onnx
from ...runtime.metadata import ModelMetadata
from ...runtime.weights import load_weights
from ...utils.configs import config_from_dict
from .config import Pose3DConfig
from .data import normalization_for
from .model import INPUT_NAME, OUTPUT_NAMES, PandaNet
from .runner import Pose3DExportInfo

__all__ = ["is_checkpoint", "load_model", "export_pose3d"]

_log = logging.getLogger(__name__)


def load_model(weights: Path | str) -> tuple[PandaNet, Pose3DConfig]:
    """A ``PandaNet`` and its full config from a weights file (or a training checkpoint)."""
    prefix = "model." if is_checkpoint(weights) else ""
    state, config = load_weights(weights, prefix=prefix)
    cfg = config_from_dict(Pose3DConfig, config)
    model = PandaNet(cfg.model)
    model.load_state_dict(state)
    return model.eval(), cfg


def is_checkpoint(path: Path | str) -> bool:
    """Whether a safetensors file is a resumable training checkpoint (not plain weights)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return "trainer" in (f.metadata() or {})


def export_pose3d(weights: Path | str, onnx_path: Path | str, check_parity: bool = True) -> ModelMetadata:
    """ONNX (+ metadata JSON carrying the model config) of a trained model; checks ONNX Runtime parity."""
    model, cfg = load_model(weights)
    example = torch.from_numpy(np.random.default_rng(0).normal(size=(1, 3, cfg.model.input_height, cfg.model.input_width)).astype(np.float32))
    extra: dict[str, Any] = {**Pose3DExportInfo(cfg.model).to_extra(), "selection": cfg.selection, "weighting": cfg.weighting}
    spec = ExportSpec(
        name="pose3d",
        module=model,
        example_inputs=(example,),
        input_names=[INPUT_NAME],
        output_names=list(OUTPUT_NAMES),
        dynamic_batch={INPUT_NAME: (1, 1, 4)},
        input_size=(cfg.model.input_height, cfg.model.input_width),
        normalization=normalization_for(cfg.model),
        skeleton=cfg.model.skeleton,
        extra=extra,
    )
    metadata = export_onnx(spec, onnx_path)
    if check_parity:
        from ...runtime import create_backend
        from ...runtime.export import parity

        report = parity(model, create_backend(onnx_path, "onnxruntime"), [example.numpy()])
        if not report.ok:
            raise RuntimeError(f"ONNX export of {weights} disagrees with PyTorch: {report}")
        _log.info("ONNX parity: %s", report)
    return metadata
