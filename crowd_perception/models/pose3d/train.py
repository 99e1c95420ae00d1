"""Training entry of PandaNet on the shared loop (``crowd_perception.training``).

Before the first step the anchors (k-means, ``anchors.kmeans_anchors``) and the body-size prior
(``placement.BodySizePrior``) are measured on the first training frames and written into the
model config, so every checkpoint and exported model carries them. Training ends by calibrating
the readout score threshold on validation frames (best detection F1), which is written into the
config too, and by exporting ``model.onnx`` beside the weights (``export.export_pose3d``).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from pathlib import Path

import torch
from torch import nn

from ...core.skeletons import get_skeleton
from ...training import TrainResult, cycle, init_distributed, make_loader, save_weights, train
from ..common.pretrained import init_backbone
from .config import Pose3DConfig
from .data import Pose3DStream, collate, fit_anchors_and_prior, frames
from .export import export_pose3d, is_checkpoint, load_model
from .loss import PandaNetLoss, Targets
from .model import OUTPUT_NAMES, PandaNet

__all__ = ["Pose3DTask", "prepare_config", "build_task", "run_training", "calibrate_and_export", "quick_eval"]

_log = logging.getLogger(__name__)


class Pose3DTask(nn.Module):
    """The network plus its loss (which owns the learnable uncertainty weights)."""

    def __init__(self, model: PandaNet, loss: PandaNetLoss) -> None:
        super().__init__()
        self.model = model
        self.loss = loss

    def forward(self, batch: tuple[torch.Tensor, Targets]) -> tuple[torch.Tensor, dict[str, float]]:
        images, targets = batch
        outputs = dict(zip(OUTPUT_NAMES, self.model(images), strict=True))
        return self.loss(outputs, targets.to(images.device))


def prepare_config(cfg: Pose3DConfig) -> Pose3DConfig:
    """``cfg`` with anchors and body-size prior measured on the training data when it has none."""
    if cfg.model.anchors:
        return cfg
    anchors, prior = fit_anchors_and_prior(cfg.model, cfg.data, seed=cfg.train.seed)
    _log.info("anchors (w, h): %s; body-size prior %.3f ± %.3f m", anchors.round(1).tolist(), prior.mean_m, prior.std_m)
    model = dataclasses.replace(
        cfg.model,
        anchors=tuple((round(float(w), 2), round(float(h), 2)) for w, h in anchors),
        body_size_mean_m=round(prior.mean_m, 4),
        body_size_std_m=round(prior.std_m, 4),
    )
    return dataclasses.replace(cfg, model=model)


def build_task(cfg: Pose3DConfig) -> Pose3DTask:
    model = PandaNet(cfg.model)
    init_backbone(model.backbone, cfg.model.pretrained)
    anchors = torch.from_numpy(cfg.model.anchor_boxes())
    loss = PandaNetLoss(anchors, len(cfg.model.anchors), get_skeleton(cfg.model.skeleton).num_joints,
                        cfg.selection, cfg.weighting)
    return Pose3DTask(model, loss)


def quick_eval(model: nn.Module, cfg: Pose3DConfig) -> dict[str, float]:
    """Headline metrics on ``cfg.data.val_images`` validation frames (the loop's periodic evaluation).

    The score threshold is not calibrated yet during training, so pose metrics use the AP threshold.
    """
    from .evaluate import AP_SCORE_THRESHOLD, evaluate_frames
    from .postprocess import PostprocessConfig
    from .runner import Pose3DEstimator

    estimator = Pose3DEstimator.from_torch(model, PostprocessConfig(AP_SCORE_THRESHOLD))
    val = itertools.islice(frames(cfg.data, "val", seed=10_000), cfg.data.val_images)
    summary = evaluate_frames(estimator, val, cfg.data.min_visible_fraction)["all"]
    return {k: summary[k] for k in ("ap", "recall", "mpjpe_mm", "pck", "root_error_m")}


def run_training(cfg: Pose3DConfig, out_dir: Path | str, resume: Path | str | None = None) -> TrainResult:
    """Train (or resume from a checkpoint of the same ``cfg``), calibrate and export ``model.onnx`` in ``out_dir``."""
    cfg = prepare_config(cfg)
    ctx = init_distributed(cfg.train.device)
    if ctx.device.type == "cpu":
        torch.set_num_threads(cfg.train.threads)
    task = build_task(cfg)
    stream = Pose3DStream(cfg.model, cfg.data, seed=cfg.train.seed)
    loader = make_loader(stream, cfg.train.batch_size, ctx, seed=cfg.train.seed, collate_fn=collate,
                         num_workers=cfg.train.num_workers)
    result = train(task, cycle(loader), cfg.train, cfg, out_dir, ctx, resume=resume,
                   evaluate=lambda model: quick_eval(model, cfg))
    if ctx.is_main and result.weights is not None:
        calibrate_and_export(result.weights)
    return result


def calibrate_and_export(weights: Path | str, num_frames: int | None = None, out: Path | str | None = None) -> float:
    """Set the model's score threshold to the best-F1 one on validation frames, save, export ONNX.

    ``weights`` is a weights file (rewritten in place unless ``out`` is given) or a training
    checkpoint (then ``out`` is required). Returns the threshold. The frames (seed 20000 of the
    validation split) are disjoint from the periodic evaluation's (seed 10000).
    """
    from .evaluate import calibrate_score_threshold
    from .runner import Pose3DEstimator

    weights = Path(weights)
    if out is None and is_checkpoint(weights):
        raise ValueError(f"{weights} is a training checkpoint: give an output weights path")
    out = Path(out) if out is not None else weights
    model, cfg = load_model(weights)
    n = num_frames or cfg.data.calibration_images
    val = itertools.islice(frames(cfg.data, "val", seed=20_000), n)
    threshold, f1 = calibrate_score_threshold(Pose3DEstimator.from_torch(model), val, cfg.data.min_visible_fraction)
    _log.info("score threshold %.2f (detection F1 %.3f on %d validation frames)", threshold, f1, n)
    cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, score_threshold=threshold))
    save_weights(out, model, cfg)
    export_pose3d(out, out.with_suffix(".onnx"))
    return threshold
