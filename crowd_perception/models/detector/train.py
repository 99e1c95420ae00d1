"""Detector training: the task module the shared loop optimises, data wiring, validation, export.

:func:`train_detector` renders/reads the data, counts identities for the JDE classifier, trains
with :func:`crowd_perception.training.train` (DDP under ``torchrun``, AMP on CUDA, resumable) and
evaluates MR^-2 / AP on a small validation split at ``eval_every`` and at the end. Export to
ONNX lives in :mod:`.export`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ...eval.detection import evaluate_detections
from ...training import TrainResult, cycle, init_distributed, main_process_first, make_loader, train
from ..common.pretrained import init_backbone
from .config import DetectorTrainingConfig
from .data import DetectionDataset, collate, identity_classes, open_frames, synth_frames
from .loss import DetectionCriterion
from .model import PedestrianDetectorNet
from .runner import PedestrianDetector

__all__ = ["DetectorTask", "train_detector", "validation_frames", "evaluate_module"]

_log = logging.getLogger(__name__)


class DetectorTask(nn.Module):
    """Network + criterion; ``forward((images, targets)) -> (loss, logs)`` for the shared loop.

    Anchor points follow the batch's image size (training may use crops smaller than the input size).
    """

    def __init__(self, model: PedestrianDetectorNet, criterion: DetectionCriterion) -> None:
        super().__init__()
        self.model = model
        self.criterion = criterion
        self._points: dict[tuple[int, int, str], tuple[Tensor, Tensor]] = {}

    def anchor_points(self, height: int, width: int, device: torch.device) -> tuple[Tensor, Tensor]:
        key = (height, width, str(device))
        if key not in self._points:
            points, strides = self.model.anchor_points(height, width)
            self._points[key] = (torch.from_numpy(points).to(device), torch.from_numpy(strides).to(device))
        return self._points[key]

    def forward(self, batch: tuple[Tensor, list[dict[str, Tensor]]]) -> tuple[Tensor, dict[str, float]]:
        images, targets = batch
        points, strides = self.anchor_points(images.shape[-2], images.shape[-1], images.device)
        return self.criterion(self.model(images), targets, points, strides)


def validation_frames(cfg: DetectorTrainingConfig) -> list[tuple[np.ndarray, Any]]:
    """The (small) validation split in memory: synthetic frames rendered on the fly, or a real reader's."""
    size = _input_size(cfg)
    if cfg.val.source == "synth":
        return list(synth_frames(cfg.val.preset, cfg.val.seed, size, cfg.val.sequences, cfg.val.frames))
    frames = open_frames(cfg.val, size)
    return [frames.load(i) for i in range(min(len(frames), 50))]


def _input_size(cfg: DetectorTrainingConfig) -> tuple[int, int]:
    """The network input ``(height, width)`` (a JSON-loaded config may hold it as a list)."""
    height, width = cfg.model.input_size
    return height, width


def evaluate_module(model: nn.Module, frames: list[tuple[np.ndarray, Any]], cfg: DetectorTrainingConfig) -> dict[str, float]:
    """MR^-2 / AP / recall ("all" subset) of an in-memory network on ``frames``."""
    device = str(next(model.parameters()).device)
    detector = PedestrianDetector.from_torch(model, _input_size(cfg), cfg.post, device)
    detections = [detector.detect(image) for image, _ in frames]
    metrics = evaluate_detections(detections, [ann for _, ann in frames])
    return {"mr2": metrics.mr2, "ap": metrics.ap, "recall": metrics.recall}


def train_detector(cfg: DetectorTrainingConfig, out_dir: Path | str, resume: Path | str | None = None) -> TrainResult:
    """Train a detector as configured; writes ``out_dir/{model.safetensors, last.safetensors, log.csv, config.json}``."""
    ctx = init_distributed(cfg.train.device)
    size = _input_size(cfg)
    frames = main_process_first(ctx, lambda: open_frames(cfg.data, size))  # rank 0 renders the synthetic cache
    if cfg.model.embedding_dim > 0 and cfg.loss.num_identities == 0:
        cfg = replace(cfg, loss=replace(cfg.loss, num_identities=identity_classes(cfg.data, size, frames)))
    _log.info("%d training frames, %d identities", len(frames), cfg.loss.num_identities)
    dataset = DetectionDataset(frames, size, cfg.data, train=True, seed=cfg.train.seed)
    loader = make_loader(
        dataset, cfg.train.batch_size, ctx, seed=cfg.train.seed, collate_fn=collate, num_workers=cfg.train.num_workers
    )
    model = PedestrianDetectorNet(cfg.model)
    init_backbone(model.backbone, cfg.model.pretrained)
    task = DetectorTask(model, DetectionCriterion(cfg.loss, cfg.model.embedding_dim))
    val = validation_frames(cfg) if ctx.is_main else []

    def evaluate(net: nn.Module) -> dict[str, float]:
        return evaluate_module(net, val, cfg)

    return train(task, cycle(loader), cfg.train, cfg, out_dir, ctx, resume=resume, evaluate=evaluate)
