"""Reading shipped model weights: safetensors files that carry their model config as JSON.

Inference (the runners' ``backend="torch"``, the exports) reads weights here, so it needs nothing
from ``training/``, which writes them (:mod:`crowd_perception.training.checkpoint`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .metadata import ModelMismatchError
from .model_check import non_finite_tensor

if TYPE_CHECKING:
    import torch

__all__ = ["CONFIG_KEY", "load_weights", "read_config"]

CONFIG_KEY = "config"  # the safetensors metadata entry holding the model config JSON


def read_config(path: Path | str) -> dict[str, Any]:
    """The config dict stored in a safetensors file's metadata."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if CONFIG_KEY not in meta:
        raise ValueError(f"{path}: no config in the safetensors metadata (not written by save_weights/save_checkpoint)")
    try:
        config = json.loads(meta[CONFIG_KEY])
    except json.JSONDecodeError as exc:
        raise ModelMismatchError(f"{path}: the config in the safetensors metadata is not JSON ({exc})") from exc
    if not isinstance(config, dict):
        raise ModelMismatchError(f"{path}: the config in the safetensors metadata is not a JSON object")
    return config


def load_weights(path: Path | str, prefix: str = "") -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``(state_dict, config dict)`` from a weights file, or from a training checkpoint with ``prefix="model."``."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    config = read_config(path)
    with safe_open(str(path), framework="pt") as f:
        state = {k[len(prefix) :]: f.get_tensor(k) for k in f.keys() if k.startswith(prefix)}
    if not state:
        raise ValueError(f"{path}: no tensors with prefix {prefix!r}")
    fault = non_finite_tensor({name: tensor.float().numpy() for name, tensor in state.items() if tensor.is_floating_point()})
    if fault is not None:
        raise ModelMismatchError(f"{path}: weight tensor {fault} is not finite; the model cannot be used")
    return state, config
