"""Anchor ↔ ground-truth matching, PONO, positives A+ and Pose-Aware Anchor Selection labels.

Seed (PandaNet, section 3): every anchor is matched to the ground truth of highest IoU; its
normalised overlap (the seed's PONO map) ``O`` is that IoU divided by the best IoU the same
ground truth reaches over the anchors matched to it, so every person, however small, has an anchor
with ``O = 1``. Anchors with ``O > 0.5`` are the positives A+ on which box and pose losses apply.
The readout label of an anchor (what the score head learns) depends on the selection mode:

- ``none``: ``C = O > 0.5`` (positives only);
- ``box``: ``C = O · IoU(predicted box, GT box) > 0.5`` (box-aware);
- ``pose``: ``C = O · mean_j IoU2D_j > 0.5`` (Pose-Aware Anchor Selection), where ``IoU2D_j`` is the
  IoU of unit squares centred at the predicted and the true joint ``j`` in anchor coordinates.

The coding functions are array-agnostic (numpy arrays or torch tensors) so that training
(torch) and post-processing (numpy) share one definition.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ...core.boxes import box_iou

__all__ = [
    "POSITIVE_THRESHOLD",
    "SELECTION_MODES",
    "match_anchors",
    "encode_boxes",
    "decode_boxes",
    "encode_pose2d",
    "decode_pose2d",
    "square_iou",
    "selection_labels",
]

POSITIVE_THRESHOLD = 0.5
SELECTION_MODES = ("none", "box", "pose")


def _xp(x: Any) -> Any:
    """numpy or torch, whichever ``x`` belongs to (torch is never imported here)."""
    return sys.modules["torch"] if type(x).__module__.startswith("torch") else np


def match_anchors(anchors: np.ndarray, gt_boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match ``(M, 4)`` anchors to ``(G, 4)`` xyxy ground-truth boxes.

    Returns ``(gt_index (M,), iou (M,), pono (M,))``: the index of the highest-IoU ground truth
    (-1 when it overlaps none), that IoU, and the PONO (0 for unmatched anchors).
    """
    m = len(anchors)
    if len(gt_boxes) == 0:
        return np.full(m, -1, np.int64), np.zeros(m, np.float32), np.zeros(m, np.float32)
    overlaps = box_iou(anchors, gt_boxes)
    gt_index = overlaps.argmax(axis=1)
    iou = overlaps[np.arange(m), gt_index]
    matched = iou > 0
    best = np.zeros(len(gt_boxes))
    np.maximum.at(best, gt_index[matched], iou[matched])
    pono = np.where(matched, iou / np.maximum(best[gt_index], 1e-12), 0.0)
    return np.where(matched, gt_index, -1), iou.astype(np.float32), pono.astype(np.float32)


def _anchor_parts(anchors: Any) -> tuple[Any, Any, Any, Any]:
    w = anchors[..., 2] - anchors[..., 0]
    h = anchors[..., 3] - anchors[..., 1]
    return anchors[..., 0] + w / 2, anchors[..., 1] + h / 2, w, h


def encode_boxes(boxes: Any, anchors: Any) -> Any:
    """xyxy boxes -> ``(dx, dy, log dw, log dh)`` relative to their anchors (Faster R-CNN coding)."""
    xp = _xp(boxes)
    ax, ay, aw, ah = _anchor_parts(anchors)
    bx, by, bw, bh = _anchor_parts(boxes)
    return xp.stack([(bx - ax) / aw, (by - ay) / ah, xp.log(bw / aw), xp.log(bh / ah)], axis=-1)


def decode_boxes(deltas: Any, anchors: Any, max_log_scale: float = 4.0) -> Any:
    """Inverse of :func:`encode_boxes`; log scales are clipped to ``±max_log_scale`` (no overflow)."""
    xp = _xp(deltas)
    ax, ay, aw, ah = _anchor_parts(anchors)
    cx = ax + deltas[..., 0] * aw
    cy = ay + deltas[..., 1] * ah
    w = aw * xp.exp(xp.clip(deltas[..., 2], -max_log_scale, max_log_scale))
    h = ah * xp.exp(xp.clip(deltas[..., 3], -max_log_scale, max_log_scale))
    return xp.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)


def encode_pose2d(keypoints: Any, anchors: Any) -> Any:
    """``(..., K, 2)`` pixels -> anchor coordinates ``((x - a_x) / a_w, (y - a_y) / a_h)``; anchors ``(..., 4)``."""
    ax, ay, aw, ah = _anchor_parts(anchors)
    u = (keypoints[..., 0] - ax[..., None]) / aw[..., None]
    v = (keypoints[..., 1] - ay[..., None]) / ah[..., None]
    return _xp(keypoints).stack([u, v], axis=-1)


def decode_pose2d(uv: Any, anchors: Any) -> Any:
    """Anchor coordinates ``(..., K, 2)`` -> pixels (inverse of :func:`encode_pose2d`)."""
    ax, ay, aw, ah = _anchor_parts(anchors)
    x = ax[..., None] + uv[..., 0] * aw[..., None]
    y = ay[..., None] + uv[..., 1] * ah[..., None]
    return _xp(uv).stack([x, y], axis=-1)


def square_iou(uv_a: Any, uv_b: Any) -> Any:
    """IoU of unit squares centred at ``(..., 2)`` points (anchor coordinates) -> ``(...)`` in [0, 1].

    Overlap per axis is ``max(0, 1 - |Δ|)``; the union of two unit squares is ``2 - intersection``.
    """
    d = abs(uv_a - uv_b)
    inter = (1 - d[..., 0]).clip(min=0) * (1 - d[..., 1]).clip(min=0)
    return inter / (2 - inter)


def selection_labels(pono: Any, mode: str, box_iou_pred: Any = None, pose_iou_pred: Any = None) -> Any:
    """Readout labels ``C`` (booleans) of the anchors for selection ``mode`` (see the module doc).

    ``box_iou_pred``: IoU of each anchor's predicted box with its ground truth (mode ``box``);
    ``pose_iou_pred``: mean over labelled joints of the 2D-square IoU (mode ``pose``).
    """
    if mode == "none":
        return pono > POSITIVE_THRESHOLD
    if mode == "box":
        if box_iou_pred is None:
            raise ValueError("box-aware selection needs the predicted box IoU")
        return pono * box_iou_pred > POSITIVE_THRESHOLD
    if mode == "pose":
        if pose_iou_pred is None:
            raise ValueError("pose-aware selection needs the predicted 2D pose IoU")
        return pono * pose_iou_pred > POSITIVE_THRESHOLD
    raise ValueError(f"unknown anchor selection {mode!r}; choose from {SELECTION_MODES}")
