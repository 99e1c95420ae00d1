"""Checkpoints as safetensors (never pickle), each carrying its config as JSON.

Two kinds of file:

- **weights** (:func:`save_weights` / :func:`~crowd_perception.runtime.weights.load_weights`): the model's ``state_dict`` only, the
  config JSON embedded in the safetensors metadata (key ``"config"``) and written beside it as
  ``<name>.config.json`` (``<name>.json`` is left to the ONNX export metadata of
  :mod:`crowd_perception.runtime.export`) — what gets shipped and what runners load.
- **training checkpoints** (:func:`save_checkpoint` / :func:`load_checkpoint`): the whole training
  task (model + learnable loss parameters), the optimiser's tensors (``optim.<param>.<name>``),
  the torch RNG state, and the step, param groups, GradScaler state and extra info as JSON
  metadata, so ``--resume`` continues where a run stopped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from ..runtime.weights import CONFIG_KEY, load_weights, read_config
from .config import config_to_dict

__all__ = ["save_weights", "load_weights", "read_config", "config_path", "save_checkpoint", "load_checkpoint"]


def _tensors(state: dict[str, torch.Tensor], prefix: str = "") -> dict[str, torch.Tensor]:
    """Contiguous CPU copies (safetensors refuses shared or strided storage)."""
    return {prefix + k: v.detach().cpu().contiguous().clone() for k, v in state.items()}


def _config_json(config: Any) -> str:
    return json.dumps(config if isinstance(config, dict) else config_to_dict(config))


def _atomic_save(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    os.replace(tmp, path)


def save_weights(path: Path | str, model: nn.Module, config: Any) -> Path:
    """Write ``model``'s weights to ``path`` (``.safetensors``) and its config to :func:`config_path` of it."""
    path = Path(path)
    text = _config_json(config)
    _atomic_save(_tensors(model.state_dict()), path, {CONFIG_KEY: text})
    config_path(path).write_text(json.dumps(json.loads(text), indent=2) + "\n", encoding="utf-8")
    return path


def config_path(weights_path: Path | str) -> Path:
    """``<dir>/<name>.config.json``, the readable copy of a weights file's config."""
    weights_path = Path(weights_path)
    return weights_path.with_name(weights_path.stem + ".config.json")


def _split_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Optimizer ``state_dict`` -> (tensors keyed ``optim.<param>.<name>``, JSON-able rest)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entries in state["state"].items():
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{pid}.{name}"] = value
            else:
                scalars.setdefault(str(pid), {})[name] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _join_optimizer(tensors: dict[str, torch.Tensor], info: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        _, pid, name = key.split(".", 2)
        state.setdefault(int(pid), {})[name] = value
    for pid, entries in info["scalars"].items():
        state.setdefault(int(pid), {}).update(entries)
    return {"state": state, "param_groups": info["param_groups"]}


def save_checkpoint(
    path: Path | str,
    task: nn.Module,
    config: Any,
    step: int,
    optimizer: torch.optim.Optimizer | None = None,
    scaler: torch.amp.GradScaler | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a resumable training checkpoint of ``task`` (everything it holds, keys prefixed ``model.``
    for its ``.model`` when it has one, so :func:`load_weights` with ``prefix="model."`` reads the network)."""
    path = Path(path)
    tensors = _tensors(task.state_dict(), "task.")
    inner = getattr(task, "model", None)
    if isinstance(inner, nn.Module):
        tensors.update(_tensors(inner.state_dict(), "model."))
    info: dict[str, Any] = {"step": step, "extra": extra or {}}
    if optimizer is not None:
        optim_tensors, info["optimizer"] = _split_optimizer(optimizer.state_dict())
        tensors.update(_tensors(optim_tensors))
    if scaler is not None and scaler.is_enabled():
        info["scaler"] = {k: (v.item() if isinstance(v, torch.Tensor) else v) for k, v in scaler.state_dict().items()}
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    _atomic_save(tensors, path, {CONFIG_KEY: _config_json(config), "trainer": json.dumps(info)})
    return path


def load_checkpoint(
    path: Path | str,
    task: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scaler: torch.amp.GradScaler | None = None,
    restore_rng: bool = True,
) -> dict[str, Any]:
    """Restore ``task`` (and optimiser, scaler, RNG) from :func:`save_checkpoint`; returns ``{"step", "extra", "config"}``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        if "trainer" not in meta:
            raise ValueError(f"{path}: not a training checkpoint (no trainer state); use load_weights")
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    info = json.loads(meta["trainer"])
    task.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("task.")})
    if optimizer is not None and "optimizer" in info:
        optimizer.load_state_dict(
            _join_optimizer({k: v for k, v in tensors.items() if k.startswith("optim.")}, info["optimizer"])
        )
    if scaler is not None and "scaler" in info:
        scaler.load_state_dict(info["scaler"])
    if restore_rng:
        torch.set_rng_state(tensors["rng.torch"])
        if "rng.cuda" in tensors and torch.cuda.is_available():
            torch.cuda.set_rng_state(tensors["rng.cuda"])
    return {"step": int(info["step"]), "extra": info["extra"], "config": json.loads(meta[CONFIG_KEY])}
