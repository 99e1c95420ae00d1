"""Label assignment for the anchor-point detector: LLA (the method) and two baselines, plus AAR.

Every assigner works on ONE image, over all pyramid levels at once, on the flattened anchor
points (``points (N, 2)`` pixel centres, ``strides (N,)``) and returns an :class:`Assignment`.
Ground truth is a ``(G, 4)`` xyxy array with a ``(G,)`` ``ignore`` flag: ignore regions
(CrowdHuman ``mask``, CityPersons class 0) take part in the assignment like people, but anchors
they win are left out of every loss (the LLA reference code's treatment of class -1).

- :func:`assign_lla` — Loss-aware Label Assignment (Ge et al. 2021): cost between every GT and
  every anchor = focal classification cost + ``reg_weight`` · (−log IoU of the anchor's decoded
  prediction) + ``outside_cost`` when the anchor point is not strictly inside the GT box; each GT
  takes its ``topk`` cheapest anchors; an anchor claimed by several GTs goes to the cheapest.
- :func:`assign_fcos` — FCOS centre sampling with per-level scale ranges, smallest GT wins.
- :func:`assign_retina` — RetinaNet*-style: one pedestrian-shaped anchor box per point, IoU ≥ 0.5
  positive, < 0.4 negative, in between ignored, plus each GT's best anchor.

Ties are broken deterministically: equal costs (or IoUs) prefer the lower anchor index when a GT
picks anchors, and the lower GT index when GTs compete for an anchor.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ..common.box_ops import pairwise_iou

__all__ = [
    "AssignConfig",
    "Assignment",
    "decode_distances",
    "points_inside",
    "lla_cost",
    "topk_match",
    "assign_lla",
    "assign_fcos",
    "assign_retina",
    "assign",
    "ambiguous_assignment_ratio",
]

# The LLA paper's constants for FCOS (lambda = 1.3, "a large constant" ~ 1e2) and the reference code's.
PAPER_REG_WEIGHT, PAPER_OUTSIDE_COST = 1.3, 1e2
CODE_REG_WEIGHT, CODE_OUTSIDE_COST = 1.5, 1e3


@dataclass
class AssignConfig:
    """Which assigner and its constants (defaults: LLA with the reference code's 1.5 / 1e3)."""

    method: str = "lla"  # "lla" | "fcos" | "retina"
    topk: int = 10
    reg_weight: float = CODE_REG_WEIGHT
    outside_cost: float = CODE_OUTSIDE_COST
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    # FCOS baseline: max(l, t, r, b) ranges per level (pixels), centre radius in strides
    fcos_ranges: tuple[float, ...] = (0.0, 64.0, 128.0, 256.0, 512.0)
    fcos_radius: float = 1.5
    # RetinaNet* baseline: anchor height = retina_scale * stride, width = height * aspect
    retina_scale: float = 8.0
    retina_aspect: float = 0.41
    retina_pos_iou: float = 0.5
    retina_neg_iou: float = 0.4


@dataclass
class Assignment:
    """Per-anchor result for one image.

    ``gt_index (N,)``: the GT (row of the image's boxes, ignore regions included) an anchor is
    assigned to, -1 for background. ``positive``: assigned to a person (not an ignore region);
    ``ignored``: left out of the classification loss (assigned to an ignore region, or in the
    RetinaNet* between-thresholds band).
    """

    gt_index: Tensor
    positive: Tensor
    ignored: Tensor


def decode_distances(points: Tensor, strides: Tensor, distances: Tensor) -> Tensor:
    """``(N, 4)`` l/t/r/b distances in stride units -> xyxy pixels (mirror of ``postprocess.decode_boxes``)."""
    d = distances * strides[:, None]
    return torch.cat([points - d[:, :2], points + d[:, 2:]], dim=1)


def points_inside(points: Tensor, boxes: Tensor) -> Tensor:
    """``(G, N)``: point strictly inside the box (a point on the border is outside)."""
    x, y = points[None, :, 0], points[None, :, 1]
    return (x > boxes[:, None, 0]) & (x < boxes[:, None, 2]) & (y > boxes[:, None, 1]) & (y < boxes[:, None, 3])


def _focal_positive_cost(cls_logits: Tensor, alpha: float, gamma: float) -> Tensor:
    """Sigmoid focal loss of each anchor if it were labelled positive: ``-alpha (1-p)^gamma log p``."""
    p = cls_logits.sigmoid()
    return -alpha * (1 - p) ** gamma * F.logsigmoid(cls_logits)


def lla_cost(
    cls_logits: Tensor, pred_boxes: Tensor, points: Tensor, gt_boxes: Tensor, cfg: AssignConfig
) -> tuple[Tensor, Tensor]:
    """The LLA cost matrix ``(G, N)`` and the IoU of each GT with each anchor's predicted box.

    ``cost = focal(cls, positive) + reg_weight * -log(IoU) + outside_cost * [point not strictly in GT]``.
    ``cls_logits (N,)``, ``pred_boxes (N, 4)`` decoded xyxy; computed without gradient.
    """
    with torch.no_grad():
        iou = pairwise_iou(gt_boxes, pred_boxes)
        cls_cost = _focal_positive_cost(cls_logits, cfg.focal_alpha, cfg.focal_gamma)[None, :]
        reg_cost = -torch.log(iou.clamp(min=1e-6))
        outside = (~points_inside(points, gt_boxes)).to(iou.dtype)
        return cls_cost + cfg.reg_weight * reg_cost + cfg.outside_cost * outside, iou


def topk_match(cost: Tensor, k: int) -> Tensor:
    """Each GT (row) takes its ``k`` cheapest anchors; conflicts go to the cheapest GT. Returns ``gt_index (N,)``.

    A stable sort makes equal costs prefer lower anchor indices; ``argmin`` resolves equal-cost
    conflicts to the lower GT index.
    """
    g, n = cost.shape
    gt_index = torch.full((n,), -1, dtype=torch.long, device=cost.device)
    if g == 0 or n == 0:
        return gt_index
    k = min(k, n)
    chosen = torch.sort(cost, dim=1, stable=True).indices[:, :k]
    claimed = torch.zeros_like(cost, dtype=torch.bool)
    claimed.scatter_(1, chosen, True)
    masked = torch.where(claimed, cost, torch.full_like(cost, float("inf")))
    winner = masked.argmin(dim=0)
    any_claim = claimed.any(dim=0)
    gt_index[any_claim] = winner[any_claim]
    return gt_index


def _finish(gt_index: Tensor, ignore: Tensor, extra_ignored: Tensor | None = None) -> Assignment:
    assigned = gt_index >= 0
    to_ignore_region = assigned & ignore[gt_index.clamp(min=0)] if len(ignore) else torch.zeros_like(assigned)
    ignored = to_ignore_region if extra_ignored is None else to_ignore_region | extra_ignored
    return Assignment(gt_index, assigned & ~to_ignore_region, ignored)


def assign_lla(
    cls_logits: Tensor,
    pred_boxes: Tensor,
    points: Tensor,
    gt_boxes: Tensor,
    ignore: Tensor,
    cfg: AssignConfig,
) -> Assignment:
    """Loss-aware Label Assignment for one image (see the module docstring)."""
    cost, _ = lla_cost(cls_logits, pred_boxes, points, gt_boxes, cfg)
    return _finish(topk_match(cost, cfg.topk), ignore)


def assign_fcos(points: Tensor, strides: Tensor, gt_boxes: Tensor, ignore: Tensor, cfg: AssignConfig) -> Assignment:
    """FCOS with centre sampling: a point is a candidate for a GT when it lies inside the GT box and
    within ``fcos_radius * stride`` of its centre, and ``max(l, t, r, b)`` falls in its level's range
    ``[fcos_ranges[l], fcos_ranges[l + 1]]`` (the coarsest level present is open-ended); among
    candidates the smallest GT wins."""
    n = len(points)
    if len(gt_boxes) == 0:
        return _finish(torch.full((n,), -1, dtype=torch.long, device=points.device), ignore)
    x, y = points[None, :, 0], points[None, :, 1]
    ltrb = torch.stack(
        [x - gt_boxes[:, None, 0], y - gt_boxes[:, None, 1], gt_boxes[:, None, 2] - x, gt_boxes[:, None, 3] - y], -1
    )
    centre = (gt_boxes[:, :2] + gt_boxes[:, 2:]) / 2
    radius = cfg.fcos_radius * strides[None, :]
    near_centre = ((x - centre[:, None, 0]).abs() < radius) & ((y - centre[:, None, 1]).abs() < radius)
    level_strides = torch.unique(strides)
    levels = torch.searchsorted(level_strides, strides)
    if len(level_strides) > len(cfg.fcos_ranges):
        raise ValueError(f"fcos_ranges has {len(cfg.fcos_ranges)} lower bounds for {len(level_strides)} levels")
    bounds = torch.tensor(
        [*cfg.fcos_ranges[: len(level_strides)], float("inf")], dtype=points.dtype, device=points.device
    )
    lo, hi = bounds[levels], bounds[levels + 1]  # the coarsest level present is open-ended
    size = ltrb.max(-1).values
    candidate = (ltrb.min(-1).values > 0) & near_centre & (size >= lo[None]) & (size <= hi[None])
    area = (gt_boxes[:, 2:] - gt_boxes[:, :2]).prod(-1)
    area_cost = torch.where(candidate, area[:, None].expand_as(candidate), torch.full_like(size, float("inf")))
    gt_index = area_cost.argmin(0)
    gt_index[~candidate.any(0)] = -1
    return _finish(gt_index, ignore)


def retina_anchor_boxes(points: Tensor, strides: Tensor, cfg: AssignConfig) -> Tensor:
    """One pedestrian-shaped anchor box per point (height ``retina_scale * stride``)."""
    h = cfg.retina_scale * strides
    w = h * cfg.retina_aspect
    half = torch.stack([w, h], 1) / 2
    return torch.cat([points - half, points + half], 1)


def assign_retina(points: Tensor, strides: Tensor, gt_boxes: Tensor, ignore: Tensor, cfg: AssignConfig) -> Assignment:
    """RetinaNet*-style IoU assignment with one anchor per point (see the module docstring)."""
    n = len(points)
    if len(gt_boxes) == 0:
        return _finish(torch.full((n,), -1, dtype=torch.long, device=points.device), ignore)
    iou = pairwise_iou(gt_boxes, retina_anchor_boxes(points, strides, cfg))
    best_iou, gt_index = iou.max(0)
    gt_index = torch.where(best_iou >= cfg.retina_pos_iou, gt_index, torch.full_like(gt_index, -1))
    between = (best_iou >= cfg.retina_neg_iou) & (best_iou < cfg.retina_pos_iou)
    # low-quality matches: every GT keeps its best anchor (the lower GT index wins a shared one)
    best_anchor = iou.argmax(1)
    for g in range(len(gt_boxes) - 1, -1, -1):
        if iou[g, best_anchor[g]] > 0:
            gt_index[best_anchor[g]] = g
    return _finish(gt_index, ignore, extra_ignored=between & (gt_index < 0))


def assign(
    cfg: AssignConfig,
    points: Tensor,
    strides: Tensor,
    gt_boxes: Tensor,
    ignore: Tensor,
    cls_logits: Tensor | None = None,
    pred_boxes: Tensor | None = None,
) -> Assignment:
    """Dispatch on ``cfg.method``; LLA needs the image's ``cls_logits (N,)`` and decoded ``pred_boxes (N, 4)``."""
    if cfg.method == "lla":
        if cls_logits is None or pred_boxes is None:
            raise ValueError("LLA needs the predictions (cls_logits and pred_boxes)")
        return assign_lla(cls_logits, pred_boxes, points, gt_boxes, ignore, cfg)
    if cfg.method == "fcos":
        return assign_fcos(points, strides, gt_boxes, ignore, cfg)
    if cfg.method == "retina":
        return assign_retina(points, strides, gt_boxes, ignore, cfg)
    raise ValueError(f"unknown assignment method {cfg.method!r}; choose 'lla', 'fcos' or 'retina'")


def ambiguous_assignment_ratio(
    points: Tensor, gt_boxes: Tensor, ignore: Tensor, assignment: Assignment
) -> tuple[int, int]:
    """``(ambiguous, positives)``: positive anchors whose point lies strictly inside more than one
    person box (ignore regions excluded), and all positives. AAR = ambiguous / positives, summed
    over images before dividing — the share of positives sitting where people overlap."""
    positives = int(assignment.positive.sum())
    people = gt_boxes[~ignore]
    if positives == 0 or len(people) < 2:
        return 0, positives
    inside = points_inside(points[assignment.positive], people).sum(0)
    return int((inside > 1).sum()), positives
