"""Training configuration: plain dataclasses, JSON round trip and ``key=value`` overrides.

Each model defines its own top-level config dataclass (model, data, ...) that embeds a
:class:`TrainConfig` as ``train``, plus a ``PRESETS`` dict of named factories. This module
serialises any such nest of dataclasses (tuples stay tuples) so that checkpoints can carry their
config and ``--set train.lr=0.01`` can change a preset from the command line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from ..utils.configs import config_from_dict, config_to_dict

__all__ = ["TrainConfig", "config_to_dict", "config_from_dict", "apply_overrides", "save_config", "load_config"]

T = TypeVar("T")


@dataclass
class TrainConfig:
    """Optimisation and bookkeeping settings shared by every model.

    Training is counted in optimiser ``steps`` (the synthetic data is endless); ``max_minutes``
    stops early (checkpoint saved) for wall-clock-bounded runs. ``batch_size`` is per process.
    """

    steps: int = 1000
    batch_size: int = 8
    lr: float = 1e-3
    min_lr_ratio: float = 0.05  # cosine decays to lr * min_lr_ratio
    warmup_steps: int = 100
    optimizer: str = "adamw"  # "adamw" | "sgd"
    momentum: float = 0.9
    weight_decay: float = 1e-4
    grad_clip: float = 10.0  # max global grad norm; 0 disables
    amp: bool = True  # mixed precision, only ever enabled on CUDA
    seed: int = 0
    num_workers: int = 0
    threads: int = 2  # torch CPU threads
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:N"
    log_every: int = 20
    checkpoint_every: int = 500
    eval_every: int = 0  # 0: only at the end
    max_minutes: float = 0.0  # 0: no wall-clock limit
    tensorboard: bool = False  # also log to TensorBoard when it is installed


def apply_overrides(config: T, overrides: list[str]) -> T:
    """A copy of ``config`` with ``dotted.key=value`` overrides applied (values parsed as YAML scalars/lists)."""
    data = config_to_dict(config)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"override {item!r} is not key=value")
        node = data
        *parents, leaf = key.strip().split(".")
        for p in parents:
            if not isinstance(node.get(p), dict):
                raise ValueError(f"override {item!r}: {p!r} is not a config section")
            node = node[p]
        if leaf not in node:
            raise ValueError(f"override {item!r}: unknown field {leaf!r}; known: {sorted(node)}")
        node[leaf] = yaml.safe_load(raw)
    return config_from_dict(type(config), data)


def save_config(config: Any, path: Path | str) -> None:
    """Write ``config`` as indented JSON."""
    Path(path).write_text(json.dumps(config_to_dict(config), indent=2) + "\n", encoding="utf-8")


def load_config(cls: type[T], path: Path | str) -> T:
    """Read a config JSON written by :func:`save_config`."""
    return config_from_dict(cls, json.loads(Path(path).read_text(encoding="utf-8")))
