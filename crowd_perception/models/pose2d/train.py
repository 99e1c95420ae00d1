"""Training of the occluded pose network on the shared loop (:mod:`crowd_perception.training`).

:class:`PoseTrainingConfig` nests the network, data, augmentation, loss and optimisation configs;
:data:`PRESETS` holds the named starting points (``cpu`` = the shipped compact frame-mode model,
``cpu_crop`` = its crop-mode counterpart, ``gpu`` = 256x192 crops of 736x1280 frames, ``smoke`` =
seconds-long test run). :class:`PoseTask` is what the loop optimises.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ...formats.mixture import parse_sources
from ...training import TrainResult, cycle, init_distributed, main_process_first, make_loader, train
from ..common.pretrained import init_backbone
from .config import PoseTrainingConfig
from .data import BankConfig, CropBank, PoseTrainingSet, build_crop_bank, coco_frames, synthetic_frames
from .frame_data import FrameBank, FrameTrainingSet, build_frame_bank, collate_frames
from .grl import dann_lambda
from .loss import LossWeights, pose_loss
from .model import OccludedPoseNet
from .sources import BankBuilder, Frame, check_mixture, mixture_bank
from .unlabeled import UnlabeledReaders

__all__ = ["PoseTask", "bank_builder", "load_or_build_bank", "run_training"]

_log = logging.getLogger(__name__)


class PoseTask(nn.Module):
    """Network + multi-task loss; sets the DANN gradient-reversal weight from its own step count."""

    step: Tensor  # a buffer (saved with the checkpoint, so a resumed run continues the schedule)

    def __init__(self, model: OccludedPoseNet, weights: LossWeights, total_steps: int) -> None:
        super().__init__()
        self.model, self.weights, self.total_steps = model, weights, max(total_steps, 1)
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    def forward(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        logs: dict[str, float] = {}
        if self.model.domain_head is not None:
            scale = dann_lambda(float(self.step) / self.total_steps)
            self.model.domain_head.reverse.scale = scale
            logs["grl_lambda"] = scale
        if self.training:
            self.step += 1
        loss, terms = pose_loss(self.model(batch["images"], batch.get("rois")), batch, self.weights, self.model.config.skeleton)
        return loss, {**logs, **terms}


def _frames(cfg: PoseTrainingConfig, preset: str, seed: int):
    if cfg.data.source == "synth":
        return synthetic_frames(preset, seed=seed)
    if cfg.data.source == "coco":
        if not cfg.data.coco_json:
            raise ValueError("data.source=coco needs data.coco_json")
        return coco_frames(cfg.data.coco_json, cfg.data.image_root or None)
    raise ValueError(f"unknown data.source {cfg.data.source!r}; choose 'synth' or 'coco'")


def _cache_path(cfg: PoseTrainingConfig) -> Path | None:
    """``data.bank_cache``; a mixture's bank is named after the mixture too, so that another
    mixture (or the preset's own data) never loads it."""
    if not cfg.data.bank_cache:
        return None
    path = Path(cfg.data.bank_cache)
    if not cfg.data.mix:
        return path
    key = hashlib.sha1(f"{cfg.data.mix}|{_counts(cfg)[0]}|{cfg.data.seed}".encode()).hexdigest()[:10]
    return path.with_name(f"{path.stem}_mix{key}{path.suffix}")


def _counts(cfg: PoseTrainingConfig) -> tuple[int, int]:
    """Source and target bank sizes: frames in frame mode, crops in crop mode."""
    if cfg.model.input_mode == "frame":
        return cfg.data.source_frames, cfg.data.target_frames
    return cfg.data.source_crops, cfg.data.target_crops


def bank_builder(cfg: PoseTrainingConfig) -> BankBuilder:
    """``build(frames, count, bank_config)``: up to ``count`` bank items (frames or crops, as the
    input mode says) cut from a frame stream."""
    rng = np.random.default_rng(cfg.data.seed)
    size = (cfg.model.input_height, cfg.model.input_width)

    def build(frames: Iterable[Frame], count: int, bank: BankConfig) -> CropBank | FrameBank:
        if cfg.model.input_mode == "frame":
            return build_frame_bank(frames, bank, cfg.model.skeleton, cfg.model.network_input, count)
        return build_crop_bank(frames, bank, cfg.model.skeleton, size, count, rng)

    return build


def _build_bank(cfg: PoseTrainingConfig, unlabeled: UnlabeledReaders | None) -> CropBank | FrameBank:
    """A new bank: the mixture ``data.mix`` split by weight (``unlabeled`` boxes its ``images:`` /
    ``bag:`` parts), or the preset's source domain plus (synthetic data) its target domain."""
    build, counts = bank_builder(cfg), _counts(cfg)
    if cfg.data.mix:
        banks = mixture_bank(parse_sources(cfg.data.mix), counts[0], cfg.bank, build, cfg.data.seed, unlabeled)
    else:
        banks = [build(_frames(cfg, cfg.data.source_preset, cfg.data.seed), counts[0], cfg.bank)]
        if cfg.data.source == "synth" and counts[1] > 0:
            banks.append(build(_frames(cfg, cfg.data.target_preset, cfg.data.seed + 1), counts[1], cfg.bank))
    return type(banks[0]).concatenate(banks)  # type: ignore[arg-type]


def load_or_build_bank(cfg: PoseTrainingConfig, unlabeled: UnlabeledReaders | None = None) -> CropBank | FrameBank:
    """The training bank (crops, or frames in frame mode): source domain, plus the target domain
    (boxes + masks only) with ``model.use_domain``; read from ``data.bank_cache`` when it is there
    (so unlabeled frames' detector boxes are computed once, with the bank)."""
    frame_mode = cfg.model.input_mode == "frame"
    bank_type = FrameBank if frame_mode else CropBank
    if cfg.data.mix:
        check_mixture(parse_sources(cfg.data.mix), cfg.model.use_domain)
    cache = _cache_path(cfg)
    if cache is not None and cache.is_file():
        _log.info("loading %s %s", bank_type.__name__, cache)
        bank = bank_type.load(cache)
    else:
        bank = _build_bank(cfg, unlabeled)
        if cache is not None:
            bank.save(cache)
    if bank.skeleton != cfg.model.skeleton:
        raise ValueError(f"bank skeleton {bank.skeleton} != model skeleton {cfg.model.skeleton}")
    if frame_mode and bank.images.shape[1:3] != cfg.model.network_input:
        raise ValueError(f"bank frames {bank.images.shape[1:3]} != network input {cfg.model.network_input}")
    if not cfg.model.use_domain:  # without domain adaptation the target domain contributes nothing
        bank = bank.select(bank.domain == 0)
    return bank


def _collate(samples: list[dict[str, np.ndarray]]) -> dict[str, Tensor]:
    return {k: torch.from_numpy(np.stack([s[k] for s in samples])) for k in samples[0]}


def _training_set(
    cfg: PoseTrainingConfig, bank: CropBank | FrameBank
) -> tuple[FrameTrainingSet | PoseTrainingSet, Callable[[list[dict[str, Any]]], dict[str, Tensor]]]:
    """The augmenting dataset over ``bank`` (frames or crops, as the input mode built it) and its collate function."""
    total = cfg.train.steps * cfg.train.batch_size
    size = (cfg.model.input_height, cfg.model.input_width)
    if isinstance(bank, FrameBank):
        frames = FrameTrainingSet(
            bank, size, cfg.augment, cfg.data.rois_per_frame, cfg.bank.max_others, total, cfg.model.relation_pool, cfg.train.seed
        )
        return frames, collate_frames
    return PoseTrainingSet(bank, size, cfg.augment, total, cfg.model.relation_pool, cfg.train.seed), _collate


def run_training(
    cfg: PoseTrainingConfig, out_dir: Path | str, resume: Path | str | None = None, unlabeled: UnlabeledReaders | None = None
) -> TrainResult:
    """Build the bank (``unlabeled``: see :func:`load_or_build_bank`), the network and the task, and run
    the shared loop; weights land in ``out_dir``."""
    ctx = init_distributed(cfg.train.device)
    torch.set_num_threads(cfg.train.threads)
    if cfg.data.bank_cache:  # rank 0 writes the cache, the other processes read it
        bank = main_process_first(ctx, lambda: load_or_build_bank(cfg, unlabeled))
    else:
        bank = load_or_build_bank(cfg, unlabeled)
    _log.info("%s: %d items (%d target-domain)", type(bank).__name__, len(bank), int((bank.domain == 1).sum()))
    dataset, collate = _training_set(cfg, bank)
    loader = make_loader(dataset, cfg.train.batch_size, ctx, seed=cfg.train.seed, collate_fn=collate, num_workers=cfg.train.num_workers)
    model = OccludedPoseNet(cfg.model)
    init_backbone(model.backbone, cfg.model.pretrained, bgr_input=True)
    task = PoseTask(model, cfg.loss, cfg.train.steps)
    return train(task, cycle(loader), cfg.train, cfg, out_dir, ctx, resume=resume)
