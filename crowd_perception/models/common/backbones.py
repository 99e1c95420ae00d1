"""Backbones chosen by name, each returning the C3, C4, C5 feature maps (strides 8, 16, 32).

- ``compact``: a MobileNet-v2-like network (inverted residuals, depthwise convs) small enough to
  train and run on a CPU; ``width`` scales every stage.
- ``resnet50``: ResNet-50 (He et al. 2016) bottleneck layout ``[3, 4, 6, 3]``, for GPU training.
- ``darknet53``: DarkNet-53 (YOLOv3, the JDE backbone) residual layout ``[1, 2, 8, 8, 4]``.
- ``mobilenetv2``: the reference MobileNet v2 (width 1 only) whose ImageNet weights the project ships
  converted (:mod:`.pretrained`).

Built randomly initialised; :func:`.pretrained.load_pretrained` puts ImageNet weights in a backbone.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from .blocks import (
    Bottleneck,
    ConvBNAct,
    DarkResidual,
    DepthwiseSeparable,
    InvertedResidual,
    MobileNetV2Block,
    _Leaky,
    freeze_batch_norm,
)

__all__ = ["Backbone", "CompactBackbone", "ResNet50", "DarkNet53", "MobileNetV2", "BACKBONES", "build_backbone"]


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

    def forward_with_fine(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        """``(F4, [C3, C4, C5])``: also the stride-4 features below C3, for heads that need finer detail."""
        x = self.stem(x)
        stages = list(self.stages)
        for stage in stages[:-3]:
            x = stage(x)
        fine, outputs = x, []
        for stage in stages[-3:]:
            x = stage(x)
            outputs.append(x)
        return fine, outputs

    @property
    def fine_channels(self) -> int:
        """Channels of the stride-4 features of :meth:`forward_with_fine`."""
        stages = list(self.stages)
        part = stages[-4] if len(stages) > 3 else self.stem
        return [m for m in part.modules() if isinstance(m, nn.Conv2d)][-1].out_channels

    def stem_module(self) -> nn.Module:
        """The layers below C3 (stride <= 4), the ones :meth:`freeze` can keep fixed."""
        return self.stem

    def freeze(self, batch_norm: bool = False, stem: bool = False) -> None:
        """Keep pretrained features: fixed batch-norm statistics (:class:`.blocks.FrozenBatchNorm2d`),
        and/or no gradient into :meth:`stem_module`. Changes the state dict (no ``num_batches_tracked``)."""
        if batch_norm:
            freeze_batch_norm(self)
        if stem:
            self.stem_module().requires_grad_(False)


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
        c3, c4, c5 = (_scaled(64 * 2**i, width) * Bottleneck.expansion for i in (1, 2, 3))
        self.out_channels = (c3, c4, c5)


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
        c3, c4, c5 = (_scaled(64 * 2**i, width) for i in (2, 3, 4))
        self.out_channels = (c3, c4, c5)


class MobileNetV2(Backbone):
    """MobileNet v2 ``features[0:18]`` (the ``1x1`` to 1280 channels dropped); C3/C4/C5 = 32/96/320 channels.

    C3 is the output of block 6 (stride 8), C4 of block 13 (stride 16), C5 of block 17 (stride 32).
    The blocks up to stride 4 (``features[0:4]``) are its stem for :meth:`Backbone.freeze`: edge and
    colour filters learned on real ImageNet photos are what a synthetic-trained detector should not unlearn.
    """

    # (expansion t, channels c, repeats n, first stride s) of Sandler et al. 2018, Table 2
    SETTINGS = (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    )
    TAPS = (6, 13, 17)
    STEM_BLOCKS = 4

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        if width != 1.0:
            raise ValueError(f"mobilenetv2 exists at width 1.0 only (its pretrained weights), got {width}")
        blocks: list[nn.Module] = [nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6())]
        c_in = 32
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                blocks.append(MobileNetV2Block(c_in, c, s if i == 0 else 1, t))
                c_in = c
        self.features = nn.Sequential(*blocks)
        self.out_channels = (32, 96, 320)

    def stem_module(self) -> nn.Module:
        return self.features[: self.STEM_BLOCKS]

    @property
    def fine_channels(self) -> int:
        return self.SETTINGS[1][1]  # the 24-channel output of the stem blocks (stride 4)

    def forward_with_fine(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        fine = x = self.stem_module()(x)
        outputs = []
        for i in range(self.STEM_BLOCKS, len(self.features)):
            x = self.features[i](x)
            if i in self.TAPS:
                outputs.append(x)
        return fine, outputs

    def forward(self, x: Tensor) -> list[Tensor]:
        return self.forward_with_fine(x)[1]


BACKBONES: dict[str, Callable[..., Backbone]] = {
    "compact": CompactBackbone,
    "resnet50": ResNet50,
    "darknet53": DarkNet53,
    "mobilenetv2": MobileNetV2,
}


def build_backbone(name: str, **kwargs) -> Backbone:
    """The backbone registered under ``name`` (see :data:`BACKBONES`), built with ``kwargs``."""
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose from {sorted(BACKBONES)}")
    return BACKBONES[name](**kwargs)
