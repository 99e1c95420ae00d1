"""Small convolutional building blocks shared by the backbones, the FPN and the model heads."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = [
    "ConvBNAct",
    "DepthwiseSeparable",
    "InvertedResidual",
    "MobileNetV2Block",
    "Bottleneck",
    "DarkResidual",
    "FrozenBatchNorm2d",
    "freeze_batch_norm",
]


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


class MobileNetV2Block(nn.Module):
    """MobileNet v2 inverted residual in the reference layout (Sandler et al. 2018; ReLU6).

    ``conv`` is one flat ``Sequential`` (expand ``1x1``, depthwise ``3x3``, linear ``1x1``; no expansion
    layer when ``expand == 1``) so that its parameter names are those of the public ImageNet weights
    (``features.N.conv.I``) that :mod:`.pretrained` converts.
    """

    def __init__(self, c_in: int, c_out: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = c_in * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: Tensor) -> Tensor:
        y = self.conv(x)
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


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm2d with fixed statistics and affine parameters (as in torchvision detection models).

    Pretrained backbones keep their ImageNet statistics: small detection batches would estimate
    them badly, and synthetic frames would pull them away from the real images the model must see.
    Parameter names match ``nn.BatchNorm2d`` (less ``num_batches_tracked``), so its weights load as is.
    """

    weight: Tensor
    bias: Tensor
    running_mean: Tensor
    running_var: Tensor

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        for name, init in (
            ("weight", torch.ones),
            ("bias", torch.zeros),
            ("running_mean", torch.zeros),
            ("running_var", torch.ones),
        ):
            self.register_buffer(name, init(channels))

    def forward(self, x: Tensor) -> Tensor:
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale[None, :, None, None] + shift[None, :, None, None]


def freeze_batch_norm(module: nn.Module) -> nn.Module:
    """``module`` with every ``nn.BatchNorm2d`` below it replaced by a :class:`FrozenBatchNorm2d` (in place)."""
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(module, name, FrozenBatchNorm2d(child.num_features, child.eps))
        else:
            freeze_batch_norm(child)
    return module
