"""The step-based training loop shared by the detector, the 2D pose and the 3D pose networks.

A model area supplies a **task**: an ``nn.Module`` holding the network as ``task.model`` (plus any
learnable loss parameters, e.g. uncertainty weights) whose ``forward(batch)`` returns
``(loss, logs)`` — a scalar tensor and a dict of floats. :func:`train` then handles the rest:
device and DDP wrapping, AdamW/SGD with linear warm-up and cosine decay, AMP on CUDA, gradient
clipping, a tqdm bar, CSV logging, periodic evaluation, resumable checkpoints
(``<out_dir>/last.safetensors``) and the final weights (``<out_dir>/model.safetensors`` + ``model.config.json``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint import load_checkpoint, save_checkpoint, save_weights
from .config import TrainConfig, save_config
from .data import move_to, seed_everything
from .distributed import DistContext, all_reduce_mean, unwrap_model, wrap_model
from .monitor import MetricLogger, progress

__all__ = ["TrainResult", "build_optimizer", "lr_at", "train"]

_log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a finished (or time-limited) run produced."""

    steps: int
    seconds: float
    weights: Path | None
    checkpoint: Path | None
    last_logs: dict[str, float]
    eval_metrics: dict[str, float]


def build_optimizer(params: Iterable[nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW or SGD (Nesterov momentum) from the config."""
    params = [p for p in params if p.requires_grad]
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=True)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose 'adamw' or 'sgd'")


def lr_at(step: float, cfg: TrainConfig) -> float:
    """Learning rate at ``step``: linear warm-up, then cosine decay to ``lr * min_lr_ratio`` at ``cfg.steps``.

    The loop passes ``max(step, elapsed / max_minutes * steps)`` when a wall-clock limit is set, so a
    time-bounded run still completes its decay.
    """
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    span = max(1, cfg.steps - cfg.warmup_steps)
    t = min(1.0, (step - cfg.warmup_steps) / span)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


def _should_stop(started: float, cfg: TrainConfig, ctx: DistContext) -> bool:
    """Wall-clock limit reached (decided by rank 0, broadcast so every rank stops at the same step)."""
    stop = cfg.max_minutes > 0 and time.monotonic() - started > cfg.max_minutes * 60
    if ctx.distributed:
        flag = torch.tensor([float(stop)], device=ctx.device)
        torch.distributed.broadcast(flag, 0)
        stop = bool(flag.item())
    return stop


def _network(task: nn.Module) -> nn.Module:
    """The network a (possibly DDP-wrapped) training task holds as ``.model``: evaluated and saved."""
    model = unwrap_model(task).model
    if not isinstance(model, nn.Module):
        raise TypeError(f"the training task's .model is a {type(model).__name__}, not a torch module")
    return model


def train(
    task: nn.Module,
    batches: Iterable[Any],
    cfg: TrainConfig,
    full_config: Any,
    out_dir: Path | str,
    ctx: DistContext,
    resume: Path | str | None = None,
    evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
) -> TrainResult:
    """Optimise ``task`` on the (endless) iterable ``batches`` for ``cfg.steps`` steps.

    ``full_config`` (the model's whole config dataclass) is stored with every checkpoint and with
    the final weights. ``evaluate(model)`` runs on rank 0 every ``cfg.eval_every`` steps and at the
    end, with the network in eval mode; its metrics go to the log. ``resume`` restores a checkpoint.
    """
    out_dir = Path(out_dir)
    seed_everything(cfg.seed + ctx.rank)
    if ctx.device.type == "cpu":
        torch.set_num_threads(cfg.threads)
    if ctx.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        save_config(full_config, out_dir / "config.json")
    task = task.to(ctx.device)
    optimizer = build_optimizer(task.parameters(), cfg)
    use_amp = cfg.amp and ctx.device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    step = 0
    if resume is not None:
        step = load_checkpoint(resume, task, optimizer, scaler)["step"]
        _log.info("resumed from %s at step %d", resume, step)
    wrapped = wrap_model(task, ctx)
    logger = MetricLogger(out_dir, cfg.tensorboard) if ctx.is_main else None
    started, window_start = time.monotonic(), time.monotonic()
    window: dict[str, list[float]] = {}
    last_logs: dict[str, float] = {}
    eval_metrics: dict[str, float] = {}
    checkpoint = out_dir / "last.safetensors"
    data = iter(batches)
    bar = progress(range(step, cfg.steps), total=cfg.steps, initial=step, enabled=ctx.is_main, desc="train")

    def save() -> None:
        if ctx.is_main:
            save_checkpoint(checkpoint, task, full_config, step, optimizer, scaler)

    def run_eval() -> None:
        nonlocal eval_metrics
        if evaluate is None or not ctx.is_main:
            return
        model = _network(wrapped)
        model.eval()
        with torch.no_grad():
            eval_metrics = {f"eval/{k}": float(v) for k, v in evaluate(model).items()}
        model.train()
        if logger is not None:
            logger.log(step, eval_metrics)

    wrapped.train()
    for _ in bar:
        where = float(step)
        if cfg.max_minutes > 0:
            where = max(where, (time.monotonic() - started) / (cfg.max_minutes * 60) * cfg.steps)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(where, cfg)
        batch = move_to(next(data), ctx.device)
        with torch.autocast(ctx.device.type, dtype=torch.float16, enabled=use_amp):
            loss, logs = wrapped(batch)
        if not torch.isfinite(loss):
            save()
            raise FloatingPointError(f"loss is {loss.item()} at step {step}; last checkpoint: {checkpoint}")
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if cfg.grad_clip > 0:
            scaler.unscale_(optimizer)
            logs["grad_norm"] = float(nn.utils.clip_grad_norm_(task.parameters(), cfg.grad_clip))
        scaler.step(optimizer)
        scaler.update()
        step += 1
        logs = {"loss": float(loss.detach()), **{k: float(v) for k, v in logs.items()}}
        for k, v in logs.items():
            window.setdefault(k, []).append(v)
        if step % cfg.log_every == 0 or step == cfg.steps:
            means = all_reduce_mean({k: sum(v) / len(v) for k, v in window.items()}, ctx)
            elapsed = time.monotonic() - window_start
            n_steps = len(window["loss"])
            last_logs = {**means, "lr": optimizer.param_groups[0]["lr"], "steps_per_s": n_steps / max(elapsed, 1e-9)}
            if logger is not None:
                logger.log(step, {**last_logs, "elapsed_s": time.monotonic() - started})
                bar.set_postfix(loss=f"{means['loss']:.3f}")
            window, window_start = {}, time.monotonic()
        if cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
            save()
        if cfg.eval_every and step % cfg.eval_every == 0 and step < cfg.steps:
            run_eval()
        if _should_stop(started, cfg, ctx):
            _log.info("wall-clock limit of %.1f min reached at step %d", cfg.max_minutes, step)
            break
    bar.close()
    save()
    run_eval()
    weights = None
    if logger is not None:
        weights = save_weights(out_dir / "model.safetensors", _network(wrapped), full_config)
        logger.close()
    return TrainResult(step, time.monotonic() - started, weights, checkpoint, last_logs, eval_metrics)
