"""Pedestrian detection metrics: the CrowdHuman / Caltech protocol and the CityPersons subsets.

Matching (per image, Caltech-style, as in the CityPersons ``eval_MR_multisetup`` code):
detections are taken in decreasing score order; each is matched to the unmatched evaluated
person with the highest IoU >= 0.5 (true positive); failing that, to an ignored box — an ignore
region or a person outside the evaluated subset — by intersection over the *detection's* area
>= 0.5 (ignored: neither true nor false positive; ignored boxes absorb any number of detections);
otherwise it is a false positive. Under a height range, unmatched detections outside the range
(widened by 1.25) are ignored too.

Metrics over a set of images: **MR^-2** — the log-average miss rate at 9 FPPI points evenly spaced
in log space over [1e-2, 1e0] (a point no detection list reaches counts as miss rate 1; miss rates
are floored at 1e-10 before the log, as in Dollár's toolbox); **AP** — area under the
all-point-interpolated precision-recall curve (VOC 2010+); **recall** over all detections.
:func:`embedding_tpr_at_far` is JDE's appearance metric on ground-truth boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.annotations import FrameAnnotation
from ..core.boxes import box_ioa, box_iou
from ..core.types import Detections

__all__ = [
    "FPPI_POINTS",
    "Subset",
    "SUBSETS",
    "ImageMatch",
    "DetectionMetrics",
    "gt_for_subset",
    "match_image",
    "log_average_miss_rate",
    "average_precision",
    "accumulate",
    "evaluate_detections",
    "embedding_tpr_at_far",
    "plot_curves",
]

FPPI_POINTS = np.logspace(-2.0, 0.0, 9)
_HEIGHT_SLACK = 1.25  # CityPersons' expFilter


@dataclass(frozen=True)
class Subset:
    """Evaluated people: full-box height in ``height`` (pixels) and visible fraction in ``visibility``
    (unknown visibility counts as fully visible); the rest become ignored boxes."""

    height: tuple[float, float] = (0.0, float("inf"))
    visibility: tuple[float, float] = (0.0, 1.0)
    min_visibility_exclusive: bool = True  # people with visibility exactly 0 (nothing to see) are ignored

    @property
    def filters_height(self) -> bool:
        return self.height[0] > 0 or np.isfinite(self.height[1])


SUBSETS: dict[str, Subset] = {
    "all": Subset(),
    "reasonable": Subset(height=(50.0, float("inf")), visibility=(0.65, 1.0)),
    "heavy": Subset(height=(50.0, float("inf")), visibility=(0.2, 0.65)),
}


def gt_for_subset(ann: FrameAnnotation, subset: Subset) -> tuple[np.ndarray, np.ndarray]:
    """``(boxes (G, 4), ignore (G,))``: the annotation's people (ignored when outside ``subset``)
    followed by its ignore regions."""
    persons = ann.persons
    h = persons.boxes[:, 3] - persons.boxes[:, 1]
    vis = np.where(np.isfinite(persons.visible_fractions), persons.visible_fractions, 1.0)
    lo, hi = subset.visibility
    vis_ok = ((vis > lo) if subset.min_visibility_exclusive and lo == 0 else (vis >= lo)) & (vis <= hi)
    evaluated = (h >= subset.height[0]) & (h <= subset.height[1]) & vis_ok
    boxes = np.concatenate([persons.boxes, ann.ignore_regions]).astype(np.float64)
    ignore = np.concatenate([~evaluated, np.ones(len(ann.ignore_regions), dtype=bool)])
    return boxes, ignore


@dataclass
class ImageMatch:
    """Per-detection outcome for one image: ``scores``, ``tp`` and ``ignored`` flags (score order), ``num_gt``."""

    scores: np.ndarray
    tp: np.ndarray
    ignored: np.ndarray
    num_gt: int


def match_image(
    det_boxes: np.ndarray,
    det_scores: np.ndarray,
    gt_boxes: np.ndarray,
    gt_ignore: np.ndarray,
    iou_threshold: float = 0.5,
    height_range: tuple[float, float] | None = None,
) -> ImageMatch:
    """Match one image's detections to its ground truth (see the module docstring)."""
    det_boxes = np.asarray(det_boxes, dtype=np.float64).reshape(-1, 4)
    det_scores = np.asarray(det_scores, dtype=np.float64).reshape(-1)
    gt_boxes = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
    gt_ignore = np.asarray(gt_ignore, dtype=bool).reshape(-1)
    if len(det_boxes) != len(det_scores) or len(gt_boxes) != len(gt_ignore):
        raise ValueError("boxes and scores (or ignore flags) differ in length")
    order = np.argsort(-det_scores, kind="stable")
    det_boxes, det_scores = det_boxes[order], det_scores[order]
    tp = np.zeros(len(det_boxes), dtype=bool)
    ignored = np.zeros(len(det_boxes), dtype=bool)
    iou = box_iou(det_boxes, gt_boxes)
    ioa = box_ioa(det_boxes, gt_boxes)
    taken = np.zeros(len(gt_boxes), dtype=bool)
    for d in range(len(det_boxes)):
        free = ~gt_ignore & ~taken & (iou[d] >= iou_threshold)
        if free.any():
            g = int(np.argmax(np.where(free, iou[d], -1.0)))
            taken[g] = tp[d] = True
        elif (gt_ignore & (ioa[d] >= iou_threshold)).any():
            ignored[d] = True
    if height_range is not None:
        h = det_boxes[:, 3] - det_boxes[:, 1]
        outside = (h < height_range[0] / _HEIGHT_SLACK) | (h > height_range[1] * _HEIGHT_SLACK)
        ignored |= outside & ~tp
    return ImageMatch(det_scores, tp, ignored, int((~gt_ignore).sum()))


@dataclass
class DetectionMetrics:
    """Summary figures and the curves behind them (``fppi``/``miss_rate``, ``recall``/``precision``)."""

    mr2: float
    ap: float
    recall: float
    num_images: int
    num_gt: int
    num_det: int
    fppi: np.ndarray = field(repr=False)
    miss_rate: np.ndarray = field(repr=False)
    recall_curve: np.ndarray = field(repr=False)
    precision_curve: np.ndarray = field(repr=False)
    score_curve: np.ndarray = field(repr=False)  # the scores the curves step through, descending

    def as_dict(self) -> dict[str, float]:
        return {"mr2": self.mr2, "ap": self.ap, "recall": self.recall, "num_gt": self.num_gt, "num_det": self.num_det}

    def at_threshold(self, threshold: float) -> dict[str, float]:
        """The operating point of publishing only detections scored >= ``threshold``: detections,
        false positives per image (detections on ignore regions count as neither) and recall."""
        kept = int(np.searchsorted(-self.score_curve, -threshold, side="right"))
        return {
            "threshold": threshold,
            "det_per_image": kept / max(self.num_images, 1),
            "fp_per_image": float(self.fppi[kept - 1]) if kept else 0.0,
            "recall": float(self.recall_curve[kept - 1]) if kept else 0.0,
        }


def log_average_miss_rate(fppi: np.ndarray, miss_rate: np.ndarray, points: np.ndarray = FPPI_POINTS) -> float:
    """MR^-2: geometric mean of the miss rate at the last curve point with FPPI <= each reference."""
    sampled = np.ones(len(points))
    for i, ref in enumerate(points):
        reached = np.flatnonzero(fppi <= ref)
        if len(reached):
            sampled[i] = miss_rate[reached[-1]]
    return float(np.exp(np.mean(np.log(np.maximum(sampled, 1e-10)))))


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """All-point interpolated AP: area under the monotone precision envelope."""
    r = np.concatenate([[0.0], recall, [recall[-1] if len(recall) else 0.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    steps = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


def accumulate(matches: Sequence[ImageMatch]) -> DetectionMetrics:
    """Pool per-image matches into MR^-2, AP and recall."""
    num_images = len(matches)
    num_gt = sum(m.num_gt for m in matches)
    scores = np.concatenate([m.scores[~m.ignored] for m in matches]) if matches else np.zeros(0)
    tp = np.concatenate([m.tp[~m.ignored] for m in matches]) if matches else np.zeros(0, dtype=bool)
    order = np.argsort(-scores, kind="stable")
    tp = tp[order]
    tp_sum = np.cumsum(tp)
    fp_sum = np.cumsum(~tp)
    recall = tp_sum / max(num_gt, 1)
    precision = tp_sum / np.maximum(tp_sum + fp_sum, 1)
    fppi = fp_sum / max(num_images, 1)
    miss = 1 - recall
    return DetectionMetrics(
        mr2=log_average_miss_rate(fppi, miss),
        ap=average_precision(recall, precision),
        recall=float(recall[-1]) if len(recall) else 0.0,
        num_images=num_images,
        num_gt=num_gt,
        num_det=len(tp),
        fppi=fppi,
        miss_rate=miss,
        recall_curve=recall,
        precision_curve=precision,
        score_curve=scores[order],
    )


def evaluate_detections(
    detections: Sequence[Detections],
    annotations: Sequence[FrameAnnotation],
    subset: str | Subset = "all",
    iou_threshold: float = 0.5,
) -> DetectionMetrics:
    """MR^-2 / AP / recall of per-image ``detections`` (full-body boxes) against ``annotations``."""
    if len(detections) != len(annotations):
        raise ValueError(f"{len(detections)} detection lists for {len(annotations)} annotated images")
    sub = SUBSETS[subset] if isinstance(subset, str) else subset
    matches = []
    for det, ann in zip(detections, annotations, strict=True):
        gt_boxes, gt_ignore = gt_for_subset(ann, sub)
        matches.append(
            match_image(
                det.boxes, det.scores, gt_boxes, gt_ignore, iou_threshold, sub.height if sub.filters_height else None
            )
        )
    return accumulate(matches)


def embedding_tpr_at_far(embeddings: np.ndarray, ids: np.ndarray, far: float = 0.1) -> float:
    """JDE's embedding metric: over all pairs of ground-truth instances, the true positive rate
    (same identity, cosine similarity above the threshold) at the threshold whose false accept
    rate (different identities above it) is ``far``. Instances with id < 0 are skipped."""
    embeddings = np.asarray(embeddings, dtype=np.float64)
    ids = np.asarray(ids).reshape(-1)
    keep = ids >= 0
    e, ids = embeddings[keep], ids[keep]
    e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    iu = np.triu_indices(len(e), k=1)
    sims = (e @ e.T)[iu]
    same = (ids[:, None] == ids[None, :])[iu]
    if not same.any() or same.all():
        raise ValueError("TPR@FAR needs both same-identity and different-identity pairs")
    negatives = np.sort(sims[~same])[::-1]
    k = int(np.floor(far * len(negatives)))
    threshold = negatives[k] if k < len(negatives) else -np.inf  # k negatives lie strictly above it
    return float(np.mean(sims[same] > threshold))


def plot_curves(curves: dict[str, DetectionMetrics], out_dir: Path | str, prefix: str = "detection") -> list[Path]:
    """Write ``<prefix>_mr_fppi.png`` (log-log miss rate vs FPPI) and ``<prefix>_pr.png``.

    ``prefix`` may be any string (a ``--data`` source such as ``mot:/abs/path``): characters that
    are not safe in a file name become ``_``, and the files always land in ``out_dir``.
    """
    import re

    import matplotlib

    prefix = re.sub(r"_{2,}", "_", re.sub(r"[^A-Za-z0-9._-]+", "_", str(prefix))).strip("._") or "detection"

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, m in curves.items():
        ax.plot(np.maximum(m.fppi, 1e-4), np.maximum(m.miss_rate, 1e-4), label=f"{name} (MR$^{{-2}}$ {m.mr2:.3f})")
    ax.set(
        xscale="log",
        yscale="log",
        xlim=(1e-3, 1e1),
        ylim=(0.05, 1.0),
        xlabel="false positives per image",
        ylabel="miss rate",
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    paths.append(out_dir / f"{prefix}_mr_fppi.png")
    fig.tight_layout()
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, m in curves.items():
        ax.plot(m.recall_curve, m.precision_curve, label=f"{name} (AP {m.ap:.3f})")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    paths.append(out_dir / f"{prefix}_pr.png")
    fig.tight_layout()
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths
