"""Process-group set-up for ``torchrun`` (DDP when ``WORLD_SIZE > 1``) and device selection.

Single process: no process group, ``rank 0`` of 1. Under ``torchrun --nproc_per_node N`` the
environment variables ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` select NCCL (CUDA) or Gloo (CPU).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import nn

__all__ = [
    "DistContext",
    "select_device",
    "init_distributed",
    "main_process_first",
    "wrap_model",
    "unwrap_model",
    "all_reduce_mean",
]

T = TypeVar("T")


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: ``rank`` of ``world_size``, ``local_rank`` on its node, its ``device``."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def select_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """``"auto"``: this process's CUDA device when there is one, else the CPU. ``"cuda"`` without an
    index is this process's GPU too (``cuda:<local_rank>``), so that ``torchrun`` processes never share one."""
    if name == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but CUDA is not available")
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", local_rank)
    return device


def init_distributed(device: str = "auto") -> DistContext:
    """Read the ``torchrun`` environment and, when ``WORLD_SIZE > 1``, join the process group."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = select_device(device, local_rank)
    if world_size > 1 and not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo", rank=rank, world_size=world_size)
    return DistContext(rank, local_rank, world_size, dev)


def main_process_first(ctx: DistContext, make: Callable[[], T]) -> T:
    """``make()`` on the main process, then on the others once it has finished: what it caches on
    disk (a rendered synthetic split, a training bank) is written once and then read, instead of
    written by every process at once."""
    if not ctx.distributed:
        return make()
    if ctx.is_main:
        result = make()
        dist.barrier()
        return result
    dist.barrier()
    return make()


def wrap_model(module: nn.Module, ctx: DistContext) -> nn.Module:
    """``module`` on its device, wrapped in DistributedDataParallel when running distributed.

    DDP looks for parameters a step leaves without gradient (``find_unused_parameters``): the 2D
    pose network reads only the finest FPN level, so the other levels' smoothing convolutions never
    get one, and without the search the first backward pass fails on every rank.
    """
    module = module.to(ctx.device)
    if not ctx.distributed:
        return module
    if ctx.device.type == "cuda":
        module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
        return nn.parallel.DistributedDataParallel(module, device_ids=[ctx.device.index], find_unused_parameters=True)
    return nn.parallel.DistributedDataParallel(module, find_unused_parameters=True)


def unwrap_model(module: nn.Module) -> nn.Module:
    """The module inside a DDP wrapper (or the module itself)."""
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module


def all_reduce_mean(values: dict[str, float], ctx: DistContext) -> dict[str, float]:
    """Average scalar logs over all processes (identity when not distributed)."""
    if not ctx.distributed or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    return {k: float(v) / ctx.world_size for k, v in zip(keys, t.tolist(), strict=True)}
