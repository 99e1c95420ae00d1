"""Feature Pyramid Network (Lin et al. 2017) over C3-C5, with optional P6/P7 (RetinaNet / FCOS style)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from .blocks import ConvBNAct, DepthwiseSeparable

__all__ = ["FPN"]


class FPN(nn.Module):
    """Top-down pyramid: ``forward([C3, C4, C5]) -> [P3, P4, P5(, P6, P7)]``, all with ``channels`` channels.

    Lateral ``1x1`` convs, nearest-neighbour upsampling and addition, then a ``3x3`` smoothing conv per
    level (depthwise separable when ``lite``, for CPU models). ``extra_levels`` (0-2) adds P6 = stride-2
    conv on P5 and P7 = stride-2 conv on ReLU(P6), as in RetinaNet/FCOS. ``strides`` lists each output's.
    """

    def __init__(
        self,
        in_channels: tuple[int, ...],
        channels: int,
        extra_levels: int = 0,
        lite: bool = False,
        in_strides: tuple[int, ...] = (8, 16, 32),
    ) -> None:
        super().__init__()
        if not 0 <= extra_levels <= 2:
            raise ValueError(f"extra_levels must be 0, 1 or 2, got {extra_levels}")
        if len(in_channels) != len(in_strides):
            raise ValueError(f"{len(in_channels)} input channel counts but {len(in_strides)} strides")
        self.lateral = nn.ModuleList(ConvBNAct(c, channels, 1, act=None) for c in in_channels)
        smooth = DepthwiseSeparable if lite else ConvBNAct
        self.smooth = nn.ModuleList(smooth(channels, channels, 3) for _ in in_channels)
        self.extra = nn.ModuleList(ConvBNAct(channels, channels, 3, 2, act=None) for _ in range(extra_levels))
        self.channels = channels
        self.strides = tuple(in_strides) + tuple(in_strides[-1] * 2 ** (i + 1) for i in range(extra_levels))

    def forward(self, features: list[Tensor]) -> list[Tensor]:
        laterals = [conv(f) for conv, f in zip(self.lateral, features, strict=True)]
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + F.interpolate(
                laterals[i], size=laterals[i - 1].shape[-2:], mode="nearest"
            )
        outputs = [conv(x) for conv, x in zip(self.smooth, laterals, strict=True)]
        for i, conv in enumerate(self.extra):
            outputs.append(conv(outputs[-1] if i == 0 else F.relu(outputs[-1])))
        return outputs
