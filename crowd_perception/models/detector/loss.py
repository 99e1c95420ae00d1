"""Detector losses: focal classification, GIoU box regression, IoU-branch BCE, JDE identity
cross-entropy, combined with learned homoscedastic uncertainty (Kendall et al.; JDE's task
weighting) or uniformly.

:class:`DetectionCriterion` takes the raw head tensors of a batch, assigns labels per image with
the configured assigner (no gradient), and returns the total loss with its parts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..common.box_ops import paired_giou, paired_iou
from ..common.uncertainty import UncertaintyWeighting
from .assignment import AssignConfig, Assignment, assign, decode_distances

__all__ = [
    "LossConfig",
    "sigmoid_focal_loss",
    "giou_loss",
    "identity_scale",
    "DetectionCriterion",
]


@dataclass
class LossConfig:
    """Loss weights and the task weighting.

    ``box_weight`` / ``iou_weight`` are the LLA reference code's 2.0 (GIoU) and 0.5 (IoU BCE), summed
    into the box task. ``weighting="uncertainty"``: L = Σ_j ½(e^(−s_j) L_j + s_j) over the tasks cls,
    box, id with learnable s_j initialised as in JDE (``init_log_vars``); ``"uniform"``: L = Σ_j L_j.
    """

    assign: AssignConfig = field(default_factory=AssignConfig)
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    box_weight: float = 2.0
    iou_weight: float = 0.5
    weighting: str = "uncertainty"  # "uncertainty" | "uniform"
    init_log_vars: tuple[float, float, float] = (-4.15, -4.85, -2.3)  # s_cls, s_box, s_id (JDE)
    num_identities: int = 0  # classes of the identity classifier; < 3 disables the identity loss


def sigmoid_focal_loss(logits: Tensor, targets: Tensor, alpha: float = 0.25, gamma: float = 2.0) -> Tensor:
    """Element-wise focal loss (Lin et al. 2017) on logits with {0, 1} (or soft) targets."""
    p = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return alpha_t * (1 - p_t) ** gamma * ce


def giou_loss(pred: Tensor, target: Tensor, eps: float = 1e-9) -> Tensor:
    """Element-wise ``1 - GIoU`` (Rezatofighi et al. 2019) of ``(M, 4)`` xyxy boxes, in [0, 2]."""
    return 1 - paired_giou(pred, target, eps)


def identity_scale(num_identities: int) -> float:
    """JDE's embedding scale ``sqrt(2) * ln(nID - 1)`` applied to L2-normalised embeddings before the classifier."""
    if num_identities < 3:
        raise ValueError(f"the identity scale needs at least 3 identities, got {num_identities}")
    return math.sqrt(2) * math.log(num_identities - 1)


class DetectionCriterion(nn.Module):
    """Assignment + losses for a batch of raw head outputs.

    ``forward(outputs, targets, points, strides)`` with ``outputs = (cls (B,N,1), box (B,N,4) l/t/r/b
    in stride units, iou (B,N,1), emb (B,N,D))``; ``targets`` a list of per-image dicts with
    ``boxes (G, 4)`` xyxy input pixels, ``ignore (G,)`` bool and ``ids (G,)`` identity class or -1.
    Returns ``(loss, logs)``; classification is normalised by the number of positives in the batch,
    box and IoU losses likewise, the identity loss is a mean over the positives with an identity.
    """

    def __init__(self, cfg: LossConfig, embedding_dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.use_ids = cfg.num_identities >= 3 and embedding_dim > 0
        if self.use_ids:
            self.id_scale = identity_scale(cfg.num_identities)
            self.classifier = nn.Linear(embedding_dim, cfg.num_identities)
        if cfg.weighting == "uncertainty":
            self.weighting: UncertaintyWeighting | None = UncertaintyWeighting(cfg.init_log_vars)
        elif cfg.weighting == "uniform":
            self.weighting = None
        else:
            raise ValueError(f"unknown weighting {cfg.weighting!r}; choose 'uncertainty' or 'uniform'")

    def assign_batch(
        self, cls: Tensor, box: Tensor, points: Tensor, strides: Tensor, targets: list[dict[str, Tensor]]
    ) -> list[Assignment]:
        """Per-image assignments (no gradient)."""
        out = []
        with torch.no_grad():
            for b, t in enumerate(targets):
                pred = decode_distances(points, strides, box[b].float())
                out.append(
                    assign(self.cfg.assign, points, strides, t["boxes"], t["ignore"], cls[b, :, 0].float(), pred)
                )
        return out

    def forward(
        self, outputs: tuple[Tensor, ...], targets: list[dict[str, Tensor]], points: Tensor, strides: Tensor
    ) -> tuple[Tensor, dict[str, float]]:
        cls, box, iou_logit, emb = outputs
        cls, box, iou_logit = cls.float(), box.float(), iou_logit.float()
        assignments = self.assign_batch(cls.detach(), box.detach(), points, strides, targets)
        cls_terms, box_terms, iou_terms, embeddings, id_targets = [], [], [], [], []
        num_pos = 0
        for b, (t, a) in enumerate(zip(targets, assignments, strict=True)):
            valid = ~a.ignored
            cls_terms.append(
                sigmoid_focal_loss(
                    cls[b, valid, 0], a.positive[valid].float(), self.cfg.focal_alpha, self.cfg.focal_gamma
                ).sum()
            )
            pos = a.positive
            num_pos += int(pos.sum())
            if not pos.any():
                continue
            gt = t["boxes"][a.gt_index[pos]]
            pred = decode_distances(points[pos], strides[pos], box[b, pos])
            box_terms.append(giou_loss(pred, gt).sum())
            with torch.no_grad():
                quality = paired_iou(pred, gt)
            iou_terms.append(F.binary_cross_entropy_with_logits(iou_logit[b, pos, 0], quality, reduction="sum"))
            if self.use_ids:
                ids = t["ids"][a.gt_index[pos]]
                known = ids >= 0
                embeddings.append(emb[b, pos][known])
                id_targets.append(ids[known])
        norm = max(num_pos, 1)
        loss_cls = torch.stack(cls_terms).sum() / norm
        zero = cls.sum() * 0
        loss_giou = torch.stack(box_terms).sum() / norm if box_terms else zero
        loss_iou = torch.stack(iou_terms).sum() / norm if iou_terms else zero
        loss_box = self.cfg.box_weight * loss_giou + self.cfg.iou_weight * loss_iou
        loss_id = None
        if self.use_ids and embeddings and sum(len(e) for e in embeddings) > 0:
            e = F.normalize(torch.cat(embeddings).float(), dim=1) * self.id_scale
            loss_id = F.cross_entropy(self.classifier(e), torch.cat(id_targets))
        if self.weighting is not None:
            total = self.weighting([loss_cls, loss_box, loss_id])
        else:
            total = loss_cls + loss_box + (loss_id if loss_id is not None else zero)
        logs = {
            "loss_cls": float(loss_cls.detach()),
            "loss_giou": float(loss_giou.detach()),
            "loss_iou": float(loss_iou.detach()),
            "num_pos": num_pos / len(targets),
        }
        if loss_id is not None:
            logs["loss_id"] = float(loss_id.detach())
        if self.weighting is not None:
            logs.update(
                {
                    f"s_{n}": float(v)
                    for n, v in zip(("cls", "box", "id"), self.weighting.log_vars.detach(), strict=True)
                }
            )
        return total, logs
