"""Backbones chosen by name, each returning the C3, C4, C5 feature maps (strides 8, 16, 32).

- ``compact``: a MobileNet-v2-like network (inverted residuals, depthwise convs) small enough to
  train and run on a CPU; ``width`` scales every stage.
- ``resnet50``: ResNet-50 (He et al. 2016) bottleneck layout ``[3, 4, 6, 3]``, for GPU training.
- ``darknet53``: DarkNet-53 (YOLOv3, the JDE backbone) residual layout ``[1, 2, 8, 8, 4]``.

All are randomly initialised: this project ships no pretrained weights.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from .blocks import Bottleneck, ConvBNAct, DarkResidual, DepthwiseSeparable, InvertedResidual, _Leaky

__all__ = ["Backbone", "CompactBackbone", "ResNet50", "DarkNet53", "BACKBONES", "build_backbone"]


class Backbone(nn.Module):
    """Base class: ``forward(x) -> [C3, C4, C5]`` with ``out_channels`` and ``strides`` per output."""

    out_channels: tuple[int, int, int]
    strides: tuple[int, int, int] = (8, 16, 32)

    def __init__(self) -> None:
        super().__init__()
        self.stem: nn.Module
        self.stages: nn.ModuleList  # the last three stages produce C3, C4, C5

    def forward(self, x: Tensor) -> list[Tensor]:
        x = self.stem(x)
        outputs = []
        for stage in self.stages:
            x = stage(x)
            outputs.append(x)
        return outputs[-3:]


def _scaled(channels: int, width: float) -> int:
    """Channels scaled by ``width``, rounded to a multiple of 8 (at least 8)."""
    return max(8, round(channels * width / 8) * 8)


class CompactBackbone(Backbone):
    """MobileNet-v2-like CPU backbone; at ``width=1`` C3/C4/C5 have 32/64/128 channels."""

    def __init__(self, width: float = 1.0, depths: tuple[int, int, int] = (2, 3, 2), expand: int = 4) -> None:
        super().__init__()
        c1, c2, c3, c4, c5 = (_scaled(c, width) for c in (16, 24, 32, 64, 128))
        self.stem = nn.Sequential(ConvBNAct(3, c1, 3, 2), DepthwiseSeparable(c1, c2, stride=2))

        def stage(c_in: int, c_out: int, depth: int) -> nn.Sequential:
            blocks = [InvertedResidual(c_in, c_out, 2, expand)]
            blocks += [InvertedResidual(c_out, c_out, 1, expand) for _ in range(depth - 1)]
            return nn.Sequential(*blocks)

        self.stages = nn.ModuleList([stage(c2, c3, depths[0]), stage(c3, c4, depths[1]), stage(c4, c5, depths[2])])
        self.out_channels = (c3, c4, c5)


class ResNet50(Backbone):
    """ResNet-50 (bottleneck blocks ``[3, 4, 6, 3]``); C3/C4/C5 have 512/1024/2048 channels at ``width=1``."""

    def __init__(self, width: float = 1.0, depths: tuple[int, int, int, int] = (3, 4, 6, 3)) -> None:
        super().__init__()
        c_stem = _scaled(64, width)
        self.stem = nn.Sequential(ConvBNAct(3, c_stem, 7, 2), nn.MaxPool2d(3, 2, 1))
        stages, c_in = [], c_stem
        for i, depth in enumerate(depths):
            w = _scaled(64 * 2**i, width)
            blocks = [Bottleneck(c_in, w, 1 if i == 0 else 2)]
            blocks += [Bottleneck(w * Bottleneck.expansion, w) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*blocks))
            c_in = w * Bottleneck.expansion
        self.stages = nn.ModuleList(stages)
        self.out_channels = tuple(_scaled(64 * 2**i, width) * Bottleneck.expansion for i in (1, 2, 3))


class DarkNet53(Backbone):
    """DarkNet-53: strided ``3x3`` downsampling then residual units ``[1, 2, 8, 8, 4]``; C3/C4/C5: 256/512/1024."""

    def __init__(self, width: float = 1.0, depths: tuple[int, int, int, int, int] = (1, 2, 8, 8, 4)) -> None:
        super().__init__()
        c_stem = _scaled(32, width)
        self.stem = ConvBNAct(3, c_stem, 3, act=_Leaky)
        stages, c_in = [], c_stem
        for i, depth in enumerate(depths):
            c_out = _scaled(64 * 2**i, width)
            stages.append(
                nn.Sequential(ConvBNAct(c_in, c_out, 3, 2, act=_Leaky), *[DarkResidual(c_out) for _ in range(depth)])
            )
            c_in = c_out
        self.stages = nn.ModuleList(stages)
        self.out_channels = tuple(_scaled(64 * 2**i, width) for i in (2, 3, 4))


BACKBONES: dict[str, Callable[..., Backbone]] = {
    "compact": CompactBackbone,
    "resnet50": ResNet50,
    "darknet53": DarkNet53,
}


def build_backbone(name: str, **kwargs) -> Backbone:
    """The backbone registered under ``name`` (see :data:`BACKBONES`), built with ``kwargs``."""
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose from {sorted(BACKBONES)}")
    return BACKBONES[name](**kwargs)
