"""Small convolutional building blocks shared by the backbones, the FPN and the model heads."""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["ConvBNAct", "DepthwiseSeparable", "InvertedResidual", "Bottleneck", "DarkResidual"]


class ConvBNAct(nn.Sequential):
    """``Conv2d -> BatchNorm2d -> activation`` with "same" padding (``act=None``: no activation)."""

    def __init__(
        self, c_in: int, c_out: int, k: int = 3, stride: int = 1, groups: int = 1, act: type[nn.Module] | None = nn.ReLU
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        if act is not None:
            layers.append(act())
        super().__init__(*layers)


class DepthwiseSeparable(nn.Sequential):
    """Depthwise ``k x k`` conv followed by a pointwise conv (MobileNet v1 block): ~k² fewer MACs."""

    def __init__(self, c_in: int, c_out: int, k: int = 3, stride: int = 1, act: type[nn.Module] = nn.ReLU) -> None:
        super().__init__(ConvBNAct(c_in, c_in, k, stride, groups=c_in, act=act), ConvBNAct(c_in, c_out, 1, act=act))


class InvertedResidual(nn.Module):
    """MobileNet v2 block: pointwise expand, depthwise ``3x3``, linear pointwise project, residual if shapes match."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1, expand: int = 4) -> None:
        super().__init__()
        hidden = c_in * expand
        self.block = nn.Sequential(
            ConvBNAct(c_in, hidden, 1),
            ConvBNAct(hidden, hidden, 3, stride, groups=hidden),
            ConvBNAct(hidden, c_out, 1, act=None),
        )
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: Tensor) -> Tensor:
        y = self.block(x)
        return x + y if self.residual else y


class Bottleneck(nn.Module):
    """ResNet bottleneck (``1x1 -> 3x3 (stride) -> 1x1``, expansion 4) with a projection shortcut when needed."""

    expansion = 4

    def __init__(self, c_in: int, width: int, stride: int = 1) -> None:
        super().__init__()
        c_out = width * self.expansion
        self.block = nn.Sequential(
            ConvBNAct(c_in, width, 1), ConvBNAct(width, width, 3, stride), ConvBNAct(width, c_out, 1, act=None)
        )
        self.shortcut = nn.Identity() if stride == 1 and c_in == c_out else ConvBNAct(c_in, c_out, 1, stride, act=None)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.block(x) + self.shortcut(x))


class DarkResidual(nn.Module):
    """DarkNet-53 residual unit: ``1x1`` halve channels, ``3x3`` restore, add; LeakyReLU(0.1)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            ConvBNAct(channels, channels // 2, 1, act=_Leaky), ConvBNAct(channels // 2, channels, 3, act=_Leaky)
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.block(x)


class _Leaky(nn.LeakyReLU):
    """LeakyReLU with DarkNet's slope 0.1."""

    def __init__(self) -> None:
        super().__init__(0.1)
