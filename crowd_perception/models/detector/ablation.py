"""Equal-budget ablation: LLA vs the FCOS and RetinaNet* assigners, uncertainty vs uniform task
weighting. Every variant is the same preset with a few overrides and the same step / time budget;
each is evaluated on the same frames, with the ambiguous-assignment ratio of its final model."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import torch

from ...eval.detection import evaluate_detections
from ...training.config import apply_overrides
from ...utils.results import markdown_table
from .assignment import ambiguous_assignment_ratio
from .config import DetectorTrainingConfig, get_preset
from .data import DetectionDataset, collate, open_frames
from .export import load_network
from .loss import DetectionCriterion
from .runner import PedestrianDetector
from .train import train_detector

__all__ = ["VARIANTS", "assignment_ratio", "run_ablation"]

_log = logging.getLogger(__name__)

VARIANTS: dict[str, tuple[str, list[str]]] = {
    "lla": ("LLA + uncertainty", []),
    "fcos": ("FCOS centre sampling + uncertainty", ["loss.assign.method=fcos"]),
    "retina": ("RetinaNet* IoU + uncertainty", ["loss.assign.method=retina"]),
    "uniform": ("LLA + uniform", ["loss.weighting=uniform"]),
}


def assignment_ratio(weights: Path, cfg: DetectorTrainingConfig, images: int = 32) -> float:
    """AAR of the trained model's assigner on the first ``images`` training frames (no augmentation)."""
    model, _ = load_network(weights)
    criterion = DetectionCriterion(cfg.loss, cfg.model.embedding_dim)
    height, width = cfg.model.input_size
    size = (height, width)
    frames = open_frames(cfg.data, size)
    data = DetectionDataset(frames, size, cfg.data, train=False)
    points, strides = (torch.from_numpy(a) for a in model.anchor_points(*size))
    ambiguous = positives = 0
    with torch.no_grad():
        for start in range(0, min(images, len(data)), 8):
            images_t, targets = collate([data[i] for i in range(start, min(start + 8, images, len(data)))])
            cls, box, _, _ = model(images_t)
            for t, a in zip(targets, criterion.assign_batch(cls, box, points, strides, targets), strict=True):
                amb, pos = ambiguous_assignment_ratio(points, t["boxes"], t["ignore"], a)
                ambiguous, positives = ambiguous + amb, positives + pos
    return ambiguous / max(positives, 1)


def run_ablation(
    preset: str,
    out_root: Path,
    frames: Sequence,
    steps: int,
    minutes: float,
    variants: Sequence[str] = tuple(VARIANTS),
    extra_overrides: Sequence[str] = (),
) -> str:
    """Train and evaluate the named :data:`VARIANTS`; returns the markdown table."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown ablation variants {unknown}; known: {sorted(VARIANTS)}")
    rows: list[list[object]] = []
    capped: list[str] = []
    for key in variants:
        name, overrides = VARIANTS[key]
        budget = [f"train.steps={steps}", f"train.max_minutes={minutes}", "train.eval_every=0"]
        cfg = apply_overrides(get_preset(preset), [*extra_overrides, *overrides, *budget])
        out = out_root / key
        _log.info("ablation variant %r -> %s", name, out)
        result = train_detector(cfg, out)
        if result.weights is None:
            raise RuntimeError(f"ablation variant {name!r} wrote no weights to {out}")
        if result.steps < steps:
            capped.append(name)
        detector = PedestrianDetector(result.weights, backend="torch")
        detections = [detector.detect(image) for image, _ in frames]
        anns = [ann for _, ann in frames]
        m_all = evaluate_detections(detections, anns, "all")
        m_reasonable = evaluate_detections(detections, anns, "reasonable")
        aar = assignment_ratio(result.weights, cfg)
        rows.append(
            [
                name,
                result.steps,
                round(result.seconds / 60, 1),
                m_all.mr2,
                m_all.ap,
                m_all.recall,
                m_reasonable.mr2,
                aar,
            ]
        )
    header = ["variant", "steps", "minutes", "MR^-2 (all)", "AP50 (all)", "recall (all)", "MR^-2 (reasonable)", "AAR"]
    note = (
        f"\n\n{len(frames)} evaluation frames. AAR: share of positive anchors lying inside more than one person "
        "box, measured with each final model on 32 training frames."
        + (f" Stopped by the {minutes:g} min cap before {steps} steps: {', '.join(capped)}." if capped else "")
    )
    return markdown_table(header, rows) + note
