"""Export detector weights to ONNX with the runtime's metadata, and check PyTorch/ONNX parity.

The registry in :mod:`crowd_perception.models.registry` calls :func:`export_detector`
``(weights_path, onnx_path) -> ModelMetadata``; :func:`export_module` does the same for an
in-memory network (used by ``train detector --export``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...runtime.export import ExportSpec, export_onnx, parity
from ...runtime.metadata import ModelMetadata
from ...runtime.weights import load_weights
from ...utils.configs import config_from_dict
from .config import DetectorTrainingConfig
from .data import NORMALIZATION
from .model import PedestrianDetectorNet
from .postprocess import OUTPUT_NAMES
from .runner import INPUT_NAME, DetectorExportInfo

__all__ = ["export_module", "export_detector", "load_network"]

_log = logging.getLogger(__name__)


def load_network(weights_path: Path | str) -> tuple[PedestrianDetectorNet, DetectorTrainingConfig]:
    """The network and its full training config from a weights file written by training."""
    state, config = load_weights(weights_path)
    cfg = config_from_dict(DetectorTrainingConfig, config)
    net = PedestrianDetectorNet(cfg.model)
    net.load_state_dict(state)
    return net.eval(), cfg


def export_module(
    model: PedestrianDetectorNet,
    cfg: DetectorTrainingConfig,
    onnx_path: Path | str,
    extra: dict[str, Any] | None = None,
    check: bool = True,
) -> ModelMetadata:
    """ONNX (opset 18, dynamic batch 1-8) + metadata (input size, normalisation, strides, embedding
    size, post-processing settings); with ``check``, ONNX Runtime must match PyTorch on a random input."""
    h, w = cfg.model.input_size
    model = model.eval()
    spec = ExportSpec(
        name="detector",
        module=model,
        example_inputs=(torch.zeros(1, 3, h, w),),
        input_names=[INPUT_NAME],
        output_names=list(OUTPUT_NAMES),
        dynamic_batch={INPUT_NAME: (1, 1, 8)},
        input_size=(h, w),
        normalization=NORMALIZATION,
        extra={**DetectorExportInfo.of_network(model, cfg.post).to_extra(), **(extra or {})},
    )
    metadata = export_onnx(spec, onnx_path)
    if check:
        from ...runtime import create_backend

        backend = create_backend(onnx_path, "onnxruntime")
        x = np.random.default_rng(0).normal(size=(2, 3, h, w)).astype(np.float32)
        report = parity(model, backend, [x], rtol=1e-3, atol=1e-3)
        if not report.ok:
            raise AssertionError(f"ONNX Runtime differs from PyTorch: {report}")
        _log.info("parity: %s", report)
    return metadata


def export_detector(weights_path: Path | str, onnx_path: Path | str) -> ModelMetadata:
    """Export the weights file ``weights_path`` to ``onnx_path`` (+ ``.json`` metadata), parity-checked."""
    model, cfg = load_network(weights_path)
    return export_module(model, cfg, onnx_path)
