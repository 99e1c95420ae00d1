"""PandaNet training losses with automatic weighting by homoscedastic uncertainty (seed eqs. 11-14).

Per positive anchor (A+, PONO > 0.5): box ``(1 - IoU)^2``, 2D ``(1 - IoU2D_j)^2`` per labelled joint
(unit squares in anchor coordinates), 3D squared error per joint of the normalised pose. The score
head is trained with binary cross-entropy on the readout labels of the chosen anchor selection
(``targets.selection_labels``), computed from the detached predictions.

Each task's loss is averaged within weight groups and combined as ``Σ_g exp(-s_g) L_g + s_g`` with
``s_g = log σ_g²`` learnt (Kendall et al.'s homoscedastic uncertainty, the one convention of
:mod:`crowd_perception.models.common.uncertainty`; the seed's weight is ``λ_g = exp(-s_g)``). The
weighting modes mirror the seed's table 2:

- ``fixed``: one constant weight per task (``FIXED_WEIGHTS``), no learning;
- ``task``: one learnt λ per task;
- ``anchor``: one λ per task and anchor shape (people scale);
- ``joint``: per anchor shape for scores and boxes, per anchor shape × joint for the 2D and 3D poses.

A group with no sample in the batch contributes neither its loss nor its regulariser (otherwise
``s_g`` alone would push its λ to infinity).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..common.box_ops import paired_iou
from ..common.uncertainty import uncertainty_weighted
from .targets import decode_boxes, encode_pose2d, selection_labels, square_iou

__all__ = ["WEIGHTING_MODES", "FIXED_WEIGHTS", "Targets", "UncertaintyWeights", "PandaNetLoss"]

WEIGHTING_MODES = ("fixed", "task", "anchor", "joint")
TASKS = ("cls", "loc", "pose2d", "pose3d")
# Fixed-weight baseline: 3D errors of unit-size poses are ~100x smaller than the IoU losses.
FIXED_WEIGHTS = {"cls": 1.0, "loc": 1.0, "pose2d": 1.0, "pose3d": 100.0}


@dataclass
class Targets:
    """A training batch's ground truth, padded to ``G`` people per image.

    gt_index ``(B, M)`` long (-1: no match), pono ``(B, M)``, boxes ``(B, G, 4)`` xyxy input pixels,
    keypoints ``(B, G, K, 2)`` pixels, keypoints_valid ``(B, G, K)`` bool, poses ``(B, G, K, 3)``
    normalised root-relative, poses_valid ``(B, G)`` bool.
    """

    gt_index: Tensor
    pono: Tensor
    boxes: Tensor
    keypoints: Tensor
    keypoints_valid: Tensor
    poses: Tensor
    poses_valid: Tensor

    def to(self, device: torch.device | str) -> Targets:
        return Targets(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))


class UncertaintyWeights(nn.Module):
    """Learnable ``s = log σ²`` per weight group (``log_vars``), and the combination of group-averaged losses.

    Checkpoints written before the shared convention hold ``log_weights`` (``log λ = -s``); they load
    as ``log_vars = -log_weights`` (:meth:`_from_log_weights`).
    """

    def __init__(self, mode: str, num_anchors: int, num_joints: int) -> None:
        super().__init__()
        if mode not in WEIGHTING_MODES:
            raise ValueError(f"unknown weighting {mode!r}; choose from {WEIGHTING_MODES}")
        self.mode = mode
        per_anchor = mode in ("anchor", "joint")
        a = num_anchors if per_anchor else 1
        kj = num_joints if mode == "joint" else 1
        shapes = {"cls": (a, 1), "loc": (a, 1), "pose2d": (a, kj), "pose3d": (a, kj)}
        self.log_vars = nn.ParameterDict(
            {t: nn.Parameter(torch.zeros(s), requires_grad=mode != "fixed") for t, s in shapes.items()}
        )
        self.register_load_state_dict_pre_hook(_from_log_weights)

    def forward(self, sums: dict[str, Tensor], counts: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Combine per (anchor shape, joint) loss ``sums`` and sample ``counts``, each ``(A, K_t)``.

        Returns the total loss and each task's plain mean loss (for logging).
        """
        total = sums["cls"].new_zeros(())
        means = {}
        for task in TASKS:
            s = self.log_vars[task]
            group_sum = _reduce_to(sums[task], s.shape)
            group_count = _reduce_to(counts[task], s.shape)
            present = group_count > 0
            group_mean = group_sum / group_count.clamp(min=1)
            if self.mode == "fixed":
                total = total + FIXED_WEIGHTS[task] * group_mean[present].sum()
            else:
                total = total + uncertainty_weighted(group_mean, s)[present].sum()
            means[task] = sums[task].sum().detach() / counts[task].sum().clamp(min=1)
        return total, means


def _from_log_weights(module: nn.Module, state_dict: dict[str, Tensor], prefix: str, *_: object) -> None:
    """Load hook: a pre-convention ``<prefix>log_weights.<task>`` (``log λ``) becomes ``<prefix>log_vars.<task>`` (``-log λ``)."""
    old = prefix + "log_weights."
    for key in [k for k in state_dict if k.startswith(old)]:
        state_dict[prefix + "log_vars." + key[len(old) :]] = -state_dict.pop(key)


def _reduce_to(x: Tensor, shape: torch.Size) -> Tensor:
    """Sum ``(A, K)`` down to a broadcastable ``shape`` (``(1, 1)``, ``(A, 1)`` or ``(A, K)``)."""
    if shape[0] == 1:
        x = x.sum(dim=0, keepdim=True)
    if shape[1] == 1:
        x = x.sum(dim=1, keepdim=True)
    return x


class PandaNetLoss(nn.Module):
    """Seed losses over a batch; owns the learnable uncertainty weights."""

    anchors: Tensor
    anchor_shape: Tensor

    def __init__(self, anchors: Tensor, num_anchor_shapes: int, num_joints: int, selection: str = "pose",
                 weighting: str = "joint") -> None:
        super().__init__()
        self.register_buffer("anchors", anchors.float(), persistent=False)
        self.register_buffer("anchor_shape", torch.arange(len(anchors)) % num_anchor_shapes, persistent=False)
        self.num_anchor_shapes = num_anchor_shapes
        self.num_joints = num_joints
        self.selection = selection
        self.weights = UncertaintyWeights(weighting, num_anchor_shapes, num_joints)

    def forward(self, outputs: dict[str, Tensor], targets: Targets) -> tuple[Tensor, dict[str, float]]:
        a, k = self.num_anchor_shapes, self.num_joints
        b_idx, m_idx = torch.nonzero(targets.pono > 0.5, as_tuple=True)
        g_idx = targets.gt_index[b_idx, m_idx]
        anchors = self.anchors[m_idx]
        shape_idx = self.anchor_shape[m_idx]

        pred_boxes = decode_boxes(outputs["boxes"][b_idx, m_idx], anchors)
        box_iou = paired_iou(pred_boxes, targets.boxes[b_idx, g_idx])
        loc = (1 - box_iou) ** 2

        gt_uv = encode_pose2d(targets.keypoints[b_idx, g_idx], anchors)
        kp_valid = targets.keypoints_valid[b_idx, g_idx].float()
        iou2d = square_iou(outputs["pose2d"][b_idx, m_idx], torch.nan_to_num(gt_uv))
        pose2d = (1 - iou2d) ** 2 * kp_valid

        pose_valid = targets.poses_valid[b_idx, g_idx].float()[:, None].expand(-1, k)
        err3d = (outputs["pose3d"][b_idx, m_idx] - torch.nan_to_num(targets.poses[b_idx, g_idx])) ** 2
        pose3d = err3d.sum(-1) * pose_valid

        with torch.no_grad():
            mean_iou2d = (iou2d * kp_valid).sum(-1) / kp_valid.sum(-1).clamp(min=1)
            labels = torch.zeros_like(targets.pono, dtype=torch.bool)
            labels[b_idx, m_idx] = selection_labels(targets.pono[b_idx, m_idx], self.selection, box_iou, mean_iou2d)
        bce = F.binary_cross_entropy_with_logits(outputs["scores"], labels.float(), reduction="none")

        zeros_a, zeros_ak = bce.new_zeros((a, 1)), bce.new_zeros((a, k))
        all_shapes = self.anchor_shape.expand_as(bce).reshape(-1)
        sums = {
            "cls": zeros_a.index_add(0, all_shapes, bce.reshape(-1, 1)),
            "loc": zeros_a.index_add(0, shape_idx, loc[:, None]),
            "pose2d": zeros_ak.index_add(0, shape_idx, pose2d),
            "pose3d": zeros_ak.index_add(0, shape_idx, pose3d),
        }
        ones = torch.ones_like
        counts = {
            "cls": zeros_a.index_add(0, all_shapes, ones(bce).reshape(-1, 1)),
            "loc": zeros_a.index_add(0, shape_idx, ones(loc)[:, None]),
            "pose2d": zeros_ak.index_add(0, shape_idx, kp_valid),
            "pose3d": zeros_ak.index_add(0, shape_idx, pose_valid),
        }
        total, means = self.weights(sums, counts)
        logs = {k_: float(v) for k_, v in means.items()}
        logs.update(positives=float(len(b_idx)), labels=float(labels.sum()), total=float(total.detach()))
        return total, logs
