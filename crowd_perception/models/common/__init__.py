"""Backbones (by name) and the feature pyramid shared by the detector and the 3D pose network.

Typical use::

    backbone = build_backbone("compact", width=1.0)       # -> [C3, C4, C5]
    fpn = FPN(backbone.out_channels, channels=64, extra_levels=0, lite=True)
    pyramid = fpn(backbone(images))                        # -> [P3, P4, P5], strides fpn.strides
"""

from .backbones import BACKBONES, Backbone, CompactBackbone, DarkNet53, ResNet50, build_backbone
from .blocks import Bottleneck, ConvBNAct, DarkResidual, DepthwiseSeparable, InvertedResidual
from .fpn import FPN

__all__ = [
    "BACKBONES",
    "Backbone",
    "CompactBackbone",
    "ResNet50",
    "DarkNet53",
    "build_backbone",
    "ConvBNAct",
    "DepthwiseSeparable",
    "InvertedResidual",
    "Bottleneck",
    "DarkResidual",
    "FPN",
]
