"""Seeded, DDP-aware data loading.

Map-style datasets are shuffled by a seeded sampler (a ``DistributedSampler`` under DDP);
iterable datasets (endless synthetic streams) shard themselves with :func:`shard_info`, which
combines the DDP rank and the loader worker, and seed themselves from :func:`worker_seed`.
:func:`cycle` turns any loader into an endless stream of batches for step-based training.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sized
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler, IterableDataset, RandomSampler, Sampler

from .distributed import DistContext

__all__ = ["seed_everything", "worker_seed", "shard_info", "make_loader", "cycle", "move_to"]


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - the legacy global state, for code that still uses it
    torch.manual_seed(seed)


def _init_worker(worker_id: int) -> None:
    """Seed Python and numpy in a loader worker from torch's per-worker seed (distinct per worker)."""
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - as above


def worker_seed(base_seed: int) -> int:
    """A seed unique to this (rank, loader worker) pair, for iterable datasets."""
    index, _ = shard_info()
    return base_seed * 1000003 + index


def shard_info() -> tuple[int, int]:
    """``(index, count)`` of this (DDP rank x loader worker) shard; ``(0, 1)`` for a single process."""
    import torch.distributed as dist

    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_available() and dist.is_initialized() else (0, 1)
    info = torch.utils.data.get_worker_info()
    worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
    return rank * workers + worker, world * workers


def make_loader(
    dataset: Any,  # a torch Dataset, or any map-style object (__getitem__ and __len__)
    batch_size: int,
    ctx: DistContext,
    seed: int = 0,
    collate_fn: Callable[[list[Any]], Any] | None = None,
    num_workers: int = 0,
    shuffle: bool = True,
    drop_last: bool = True,
) -> DataLoader:
    """A ``DataLoader`` with seeded shuffling (or DDP sharding) and seeded workers."""
    sampler: Sampler[int] | None = None
    if not isinstance(dataset, IterableDataset):
        if ctx.distributed:
            sampler = DistributedSampler(dataset, ctx.world_size, ctx.rank, shuffle=shuffle, seed=seed)
        elif shuffle:
            if not isinstance(dataset, Sized):
                raise TypeError(f"shuffling needs the dataset's length; {type(dataset).__name__} has no __len__")
            sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    generator = torch.Generator().manual_seed(seed + ctx.rank)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        collate_fn=collate_fn,
        num_workers=num_workers,
        worker_init_fn=_init_worker,
        generator=generator,
        drop_last=drop_last,
        pin_memory=ctx.device.type == "cuda",
        persistent_workers=num_workers > 0,
    )


def cycle(loader: DataLoader) -> Iterator[Any]:
    """Endless batches: re-iterates ``loader`` (advancing a ``DistributedSampler``'s epoch each pass)."""
    epoch = 0
    while True:
        sampler = getattr(loader, "sampler", None)
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("the data loader produced no batch (dataset smaller than one batch?)")
        epoch += 1


def move_to(batch: Any, device: torch.device) -> Any:
    """``batch`` with every tensor (inside dicts, lists, tuples) moved to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: move_to(v, device) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(move_to(v, device) for v in batch))
    if isinstance(batch, list | tuple):
        return type(batch)(move_to(v, device) for v in batch)
    return batch
