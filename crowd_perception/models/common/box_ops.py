"""Differentiable box overlaps in torch (IoU, GIoU), pairwise and paired, for losses and assigners.

The numpy twins used at inference and in the metrics are in :mod:`crowd_perception.core.boxes`;
these keep the autograd graph. Boxes are ``xyxy``; a degenerate box has area 0, and a zero union
is clamped to ``eps`` so an empty pair gives IoU 0 rather than NaN.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["box_area", "paired_iou", "pairwise_iou", "paired_giou"]


def box_area(boxes: Tensor) -> Tensor:
    """Area of ``(..., 4)`` xyxy boxes -> ``(...)``; degenerate boxes have area 0."""
    return (boxes[..., 2:4] - boxes[..., :2]).clamp(min=0).prod(-1)


def _intersection_union(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Intersection and union areas of two broadcastable ``(..., 4)`` tensors."""
    inter = (torch.minimum(a[..., 2:4], b[..., 2:4]) - torch.maximum(a[..., :2], b[..., :2])).clamp(min=0).prod(-1)
    return inter, box_area(a) + box_area(b) - inter


def paired_iou(a: Tensor, b: Tensor, eps: float = 1e-9) -> Tensor:
    """Element-wise IoU of two broadcastable ``(..., 4)`` tensors -> ``(...)`` in [0, 1]."""
    inter, union = _intersection_union(a, b)
    return inter / union.clamp(min=eps)


def pairwise_iou(a: Tensor, b: Tensor, eps: float = 1e-9) -> Tensor:
    """IoU of every box in ``a (G, 4)`` with every box in ``b (N, 4)`` -> ``(G, N)``."""
    return paired_iou(a[:, None, :], b[None, :, :], eps)


def paired_giou(a: Tensor, b: Tensor, eps: float = 1e-9) -> Tensor:
    """Element-wise generalised IoU (Rezatofighi et al. 2019) of ``(..., 4)`` tensors, in [-1, 1]."""
    inter, union = _intersection_union(a, b)
    hull = box_area(torch.cat([torch.minimum(a[..., :2], b[..., :2]), torch.maximum(a[..., 2:4], b[..., 2:4])], -1))
    return inter / union.clamp(min=eps) - (hull - union) / hull.clamp(min=eps)
