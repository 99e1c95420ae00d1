"""Instance-level unsupervised domain adaptation: gradient reversal + a domain classifier.

Ganin & Lempitsky (ICML 2015): the classifier learns to tell the source domain (synthetic ``a``,
with keypoints) from the target domain (``b``, boxes and masks only) from each person crop's
pooled encoder features, while the reversed gradient (identity forward, ``-lambda`` backward)
pushes the encoder towards features the classifier cannot separate.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["GradientReversal", "grad_reverse", "DomainClassifier", "dann_lambda"]


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, scale: float) -> Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:
        return -ctx.scale * grad, None


def grad_reverse(x: Tensor, scale: float = 1.0) -> Tensor:
    """Identity in the forward pass; multiplies the gradient by ``-scale`` in the backward pass."""
    return _GradReverse.apply(x, scale)


class GradientReversal(nn.Module):
    """Module form of :func:`grad_reverse`; ``scale`` may be changed during training (schedule)."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        return grad_reverse(x, self.scale)


def dann_lambda(progress: float, gamma: float = 10.0) -> float:
    """DANN's schedule ``2 / (1 + exp(-gamma p)) - 1``: 0 at the start of training, -> 1 at the end."""
    return 2.0 / (1.0 + math.exp(-gamma * min(max(progress, 0.0), 1.0))) - 1.0


class DomainClassifier(nn.Module):
    """``(N, C, h, w)`` per-instance features -> ``(N,)`` domain logits (target domain = 1) through a GRL."""

    def __init__(self, channels: int, hidden: int = 64) -> None:
        super().__init__()
        self.reverse = GradientReversal()
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))

    def forward(self, features: Tensor) -> Tensor:
        pooled = features.mean(dim=(2, 3))
        return self.mlp(self.reverse(pooled))[:, 0]
