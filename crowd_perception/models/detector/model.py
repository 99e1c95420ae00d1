"""The pedestrian detector network: backbone -> FPN -> shared head, returning raw head tensors.

``forward(images)`` returns the same 4-tuple in training and evaluation (named as
:data:`~.postprocess.OUTPUT_NAMES`), so the module exports to ONNX as is; decoding, scoring and
NMS live in :mod:`.postprocess`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import Tensor, nn

from ..common import FPN, build_backbone
from .head import DetectionHead
from .postprocess import anchor_points

__all__ = ["DetectorConfig", "PedestrianDetectorNet"]


@dataclass
class DetectorConfig:
    """Architecture and input size.

    The defaults are the compact CPU model (MobileNet-v2-like backbone, 64-channel FPN P3-P5 and a
    depthwise-separable head, 128-d embedding, 320x576 input). GPU models use ``backbone="resnet50"``
    or ``"darknet53"`` with ``fpn_channels=256``, ``lite=False``, ``extra_levels=2`` and D = 512 (JDE).
    """

    backbone: str = "compact"
    backbone_width: float = 1.0
    pretrained: str = ""  # file in weights/pretrained/ that initialises the backbone for training ("" = random)
    freeze_bn: bool = False  # keep the backbone's batch-norm statistics (pretrained ones) fixed
    freeze_stem: bool = False  # no gradient into the backbone below stride 8
    fpn_channels: int = 64
    extra_levels: int = 0
    lite: bool = True
    head_convs: int = 2
    embedding_dim: int = 128
    input_size: tuple[int, int] = (320, 576)  # (height, width), multiples of the largest stride


class PedestrianDetectorNet(nn.Module):
    """Backbone + FPN + :class:`DetectionHead`; ``forward(images (B, 3, H, W)) -> (cls, box, iou, emb)``."""

    def __init__(self, cfg: DetectorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.backbone = build_backbone(cfg.backbone, width=cfg.backbone_width)
        self.backbone.freeze(batch_norm=cfg.freeze_bn, stem=cfg.freeze_stem)
        self.fpn = FPN(self.backbone.out_channels, cfg.fpn_channels, cfg.extra_levels, cfg.lite, self.backbone.strides)
        self.strides: tuple[int, ...] = self.fpn.strides
        self.head = DetectionHead(cfg.fpn_channels, len(self.strides), cfg.head_convs, cfg.embedding_dim, cfg.lite)

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return self.head(self.fpn(self.backbone(images)))

    def anchor_points(self, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Anchor points and their strides for an input of ``height x width`` (see :func:`.postprocess.anchor_points`)."""
        return anchor_points(height, width, self.strides)
