"""Multi-task loss of :class:`OccludedPoseNet` with configurable weights.

RSGNet: squared error on ``H_t`` and ``H_m`` (weights 1, 1; summed over each heatmap, see
:func:`_weighted_heatmap_mse`), MSE on the relation map (0.001), BCE on the limb
maps (0.01). Das et al.: BCE on the instance mask and on the per-joint occlusion, whose logit maps
are pooled where the *ground-truth* H_t puts each joint (at inference: the predicted H_t), so the
head learns from the joint's own pixels even while the heatmaps are still poor. DANN: BCE on
the domain logits. Keypoint terms (``H_t``, ``H_m``, relation, limbs, occlusion) are switched off
per sample for the target domain, which has boxes and masks only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ...core.skeletons import get_skeleton
from .model import pool_occlusion

__all__ = ["LossWeights", "side_permutations", "choose_sides", "pose_loss"]


@dataclass
class LossWeights:
    target: float = 1.0
    multi: float = 1.0
    relation: float = 0.001
    limbs: float = 0.01
    mask: float = 0.1
    occlusion: float = 0.1
    domain: float = 0.1
    # Score each person against its labels or their left/right mirror, whichever fits the prediction
    # better. Seen from behind, a small person's left is on the image's left; where the pixels cannot
    # tell front from back, labelled sides make the two heatmaps of a pair the same average of both
    # sides, whose single peak lies between them: every pair collapses onto the body's axis (issue 13).
    either_side: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def _weighted_heatmap_mse(pred: Tensor, target: Tensor, weight: Tensor, sample: Tensor) -> Tensor:
    """Joints heatmap loss: ``0.5 *`` squared error summed over each heatmap, averaged over joints
    (per joint weights ``(N, K)``, samples masked ``(N,)``).

    Summed, not averaged, over the ``h x w`` pixels: SimpleBaseline's per-pixel mean (the heatmap
    loss alone, where Adam makes its scale irrelevant) is ~1e-3 here, so next to the BCE terms
    (mask, occlusion, domain; ~0.5 x 0.1) its gradient on the shared encoder was ~30x smaller than
    theirs and the encoder never learned pose features: the heads fitted the mean pose (issue 13).
    """
    w = weight * sample[:, None]
    per_joint = ((pred - target) ** 2).sum(dim=(2, 3))
    return 0.5 * (per_joint * w).sum() / w.numel()


@cache
def side_permutations(skeleton: str) -> tuple[np.ndarray, np.ndarray]:
    """``(joints, limbs)``: the index permutations that swap a skeleton's left and right sides."""
    skel = get_skeleton(skeleton)
    joints = skel.flip_permutation()
    limb_index = {frozenset(limb): i for i, limb in enumerate(skel.limbs)}
    limbs = np.array([limb_index[frozenset((int(joints[a]), int(joints[b])))] for a, b in skel.limbs])
    return joints, limbs


_JOINT_KEYS = ("target_heatmaps", "target_weights", "multi_heatmaps", "multi_weights", "occlusion", "occlusion_weights")
_LIMB_KEYS = ("limbs", "limb_weights")


def choose_sides(heatmaps: Tensor, batch: dict[str, Tensor], skeleton: str) -> tuple[dict[str, Tensor], Tensor]:
    """``(batch, swapped)``: each person's per-joint and per-limb targets, left/right swapped where the
    mirrored labels fit the predicted ``heatmaps`` better (``swapped (N,)`` bool, no gradient)."""
    joints, limbs = (torch.from_numpy(p).to(heatmaps.device) for p in side_permutations(skeleton))
    target, weight = batch["target_heatmaps"], batch["target_weights"]
    with torch.no_grad():
        labelled = (((heatmaps - target) ** 2).sum(dim=(2, 3)) * weight).sum(dim=1)
        mirrored = (((heatmaps - target[:, joints]) ** 2).sum(dim=(2, 3)) * weight[:, joints]).sum(dim=1)
        swapped = mirrored < labelled
    chosen = dict(batch)
    for keys, perm in ((_JOINT_KEYS, joints), (_LIMB_KEYS, limbs)):
        for key in keys:
            if key in batch:
                value = batch[key]
                flag = swapped.view(-1, *([1] * (value.ndim - 1)))
                chosen[key] = torch.where(flag, value[:, perm], value)
    return chosen, swapped


def _masked_mean(values: Tensor, weight: Tensor) -> Tensor:
    return (values * weight).sum() / weight.sum().clamp(min=1.0)


def pose_loss(
    outputs: dict[str, Tensor], batch: dict[str, Tensor], weights: LossWeights, skeleton: str = "coco17"
) -> tuple[Tensor, dict[str, float]]:
    """Weighted sum of the terms whose outputs exist; returns ``(total, {term: value})``.

    ``batch`` keys: ``target_heatmaps``, ``target_weights`` (N, K), ``multi_heatmaps``,
    ``multi_weights`` (N, K), ``relation`` (N, S, S), ``limbs``, ``limb_weights`` (N, L),
    ``mask`` (N, 1, h, w), ``occlusion``, ``occlusion_weights`` (N, K), ``domain`` (N,) 0/1,
    ``has_keypoints`` (N,) 0/1, ``has_mask`` (N,) 0/1.
    """
    has_kpt = batch["has_keypoints"].float()
    swapped = None
    if weights.either_side:
        batch, swapped = choose_sides(outputs["heatmaps"], batch, skeleton)
    terms: dict[str, Tensor] = {
        "target": _weighted_heatmap_mse(outputs["heatmaps"], batch["target_heatmaps"], batch["target_weights"], has_kpt)
    }
    if "multi_heatmaps" in outputs:
        terms["multi"] = _weighted_heatmap_mse(
            outputs["multi_heatmaps"], batch["multi_heatmaps"], batch["multi_weights"], has_kpt
        )
    if "relation" in outputs:
        per_sample = ((outputs["relation"] - batch["relation"]) ** 2).mean(dim=(1, 2))
        terms["relation"] = _masked_mean(per_sample, has_kpt)
    if "limbs" in outputs:
        bce = F.binary_cross_entropy_with_logits(outputs["limbs"], batch["limbs"], reduction="none").mean(dim=(2, 3))
        terms["limbs"] = _masked_mean(bce, batch["limb_weights"] * has_kpt[:, None])
    if "mask" in outputs:
        bce = F.binary_cross_entropy_with_logits(outputs["mask"], batch["mask"], reduction="none").mean(dim=(1, 2, 3))
        terms["mask"] = _masked_mean(bce, batch["has_mask"].float())
    if "occlusion_map" in outputs:
        logits = pool_occlusion(outputs["occlusion_map"], batch["target_heatmaps"])
        bce = F.binary_cross_entropy_with_logits(logits, batch["occlusion"], reduction="none")
        known = batch["occlusion_weights"] * batch["target_weights"] * has_kpt[:, None]
        terms["occlusion"] = _masked_mean(bce, known)
    if "domain" in outputs:
        terms["domain"] = F.binary_cross_entropy_with_logits(outputs["domain"], batch["domain"].float())
    total = sum(getattr(weights, name) * value for name, value in terms.items())
    logged = {name: float(value.detach()) for name, value in terms.items()}
    if swapped is not None:
        logged["swapped"] = float(_masked_mean(swapped.float(), has_kpt))
    return total, logged
