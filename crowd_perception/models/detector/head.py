"""The detector's head, shared across pyramid levels (FCOS-style towers with GroupNorm).

Per level: a classification tower -> 1 class logit; a regression tower -> 4 l/t/r/b distances in
stride units (``exp(scale_l * x)``, one learnable scale per level, as in FCOS) and the IoU-quality
logit; an embedding tower -> a ``D``-dimensional JDE appearance embedding. Outputs are flattened
level by level (row-major) and concatenated, so every tensor is ``(B, N, C)`` over all anchor points.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["DetectionHead"]


def _tower(channels: int, depth: int, lite: bool) -> nn.Sequential:
    """``depth`` x (conv, GroupNorm, ReLU); depthwise-separable convs when ``lite``."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        if lite:
            layers += [
                nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
                nn.Conv2d(channels, channels, 1, bias=False),
            ]
        else:
            layers.append(nn.Conv2d(channels, channels, 3, padding=1, bias=False))
        layers += [nn.GroupNorm(math.gcd(channels, 16), channels), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


def _flatten(x: Tensor) -> Tensor:
    """``(B, C, H, W)`` -> ``(B, H*W, C)``."""
    return x.flatten(2).transpose(1, 2)


def _bias(conv: nn.Conv2d) -> Tensor:
    """The bias of a convolution built with one (torch types it as optional)."""
    if conv.bias is None:
        raise ValueError("convolution without a bias")
    return conv.bias


class DetectionHead(nn.Module):
    """Shared head over ``num_levels`` FPN levels of ``channels`` channels; see the module docstring."""

    def __init__(
        self,
        channels: int,
        num_levels: int,
        num_convs: int = 2,
        embedding_dim: int = 128,
        lite: bool = True,
        prior_prob: float = 0.01,
    ) -> None:
        super().__init__()
        self.cls_tower = _tower(channels, num_convs, lite)
        self.reg_tower = _tower(channels, num_convs, lite)
        self.cls_out = nn.Conv2d(channels, 1, 3, padding=1)
        self.box_out = nn.Conv2d(channels, 4, 3, padding=1)
        self.iou_out = nn.Conv2d(channels, 1, 3, padding=1)
        self.embedding_dim = embedding_dim
        if embedding_dim > 0:
            self.emb_tower = _tower(channels, 1, lite)
            self.emb_out = nn.Conv2d(channels, embedding_dim, 1)
        self.scales = nn.Parameter(torch.ones(num_levels))
        for conv in (self.cls_out, self.box_out, self.iou_out):
            nn.init.normal_(conv.weight, std=0.01)
            nn.init.zeros_(_bias(conv))
        nn.init.constant_(_bias(self.cls_out), -math.log((1 - prior_prob) / prior_prob))

    def forward(self, features: list[Tensor]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        cls, box, iou, emb = [], [], [], []
        for level, x in enumerate(features):
            c = self.cls_tower(x)
            r = self.reg_tower(x)
            cls.append(_flatten(self.cls_out(c)))
            box.append(_flatten(torch.exp((self.scales[level] * self.box_out(r)).clamp(max=8.0))))
            iou.append(_flatten(self.iou_out(r)))
            if self.embedding_dim > 0:
                emb.append(_flatten(self.emb_out(self.emb_tower(x))))
            else:
                emb.append(x.new_zeros(x.shape[0], x.shape[2] * x.shape[3], 0))
        return torch.cat(cls, 1), torch.cat(box, 1), torch.cat(iou, 1), torch.cat(emb, 1)
