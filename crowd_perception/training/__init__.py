"""Training infrastructure shared by the detector, the 2D pose and the 3D pose networks.

- :mod:`.config`: :class:`TrainConfig`, dataclass <-> JSON, ``key=value`` overrides.
- :mod:`.checkpoint`: safetensors weights (+ config JSON) and resumable training checkpoints.
- :mod:`.distributed`: ``torchrun`` / DDP set-up, device selection.
- :mod:`.data`: seeded, DDP-aware loaders and sharding of endless synthetic streams.
- :mod:`.monitor`: CSV (+ optional TensorBoard) logs and the progress bar.
- :mod:`.loop`: :func:`train`, the step-based loop (AMP, clipping, warm-up + cosine, eval, resume).

Minimal use (a *task* wraps the network as ``task.model`` and returns ``(loss, logs)``)::

    ctx = init_distributed(cfg.train.device)
    loader = make_loader(dataset, cfg.train.batch_size, ctx, seed=cfg.train.seed, collate_fn=collate)
    result = train(MyTask(model, criterion), cycle(loader), cfg.train, cfg, out_dir, ctx, resume=args.resume)
    state, config = load_weights(result.weights)
"""

from .checkpoint import config_path, load_checkpoint, load_weights, read_config, save_checkpoint, save_weights
from .config import TrainConfig, apply_overrides, config_from_dict, config_to_dict, load_config, save_config
from .data import cycle, make_loader, move_to, seed_everything, shard_info, worker_seed
from .distributed import (
    DistContext,
    all_reduce_mean,
    init_distributed,
    main_process_first,
    select_device,
    unwrap_model,
    wrap_model,
)
from .loop import TrainResult, build_optimizer, lr_at, train
from .monitor import MetricLogger, progress

__all__ = [
    "TrainConfig",
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "load_config",
    "save_config",
    "save_weights",
    "load_weights",
    "read_config",
    "config_path",
    "save_checkpoint",
    "load_checkpoint",
    "DistContext",
    "init_distributed",
    "main_process_first",
    "select_device",
    "wrap_model",
    "unwrap_model",
    "all_reduce_mean",
    "seed_everything",
    "worker_seed",
    "shard_info",
    "make_loader",
    "cycle",
    "move_to",
    "MetricLogger",
    "progress",
    "TrainResult",
    "build_optimizer",
    "lr_at",
    "train",
]
