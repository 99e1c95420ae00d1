"""The PandaNet network: backbone + FPN, multi-scale concatenation, sub-pixel upsampling, four heads.

Seed architecture (PandaNet, fig. 3): a ``3x3`` conv on each pyramid level, every level upsampled
to the finest one and concatenated, a sub-pixel convolution (``PixelShuffle``) to a higher
resolution, then four heads of four ``3x3`` convs and an output conv: anchor scores ``N_A``, box
offsets ``N_A x 4``, 2D poses in anchor coordinates ``N_A x K x 2`` and normalised root-relative
3D poses ``N_A x K x 3``. Outputs are flattened in (row, column, anchor) order, matching
``anchors.anchor_grid``. ``lite`` heads use depthwise-separable convs (CPU models).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...core.skeletons import get_skeleton
from ..common import FPN, ConvBNAct, DepthwiseSeparable, build_backbone
from .anchors import anchor_grid

__all__ = ["ModelConfig", "PandaNet", "OUTPUT_NAMES", "INPUT_NAME"]

INPUT_NAME = "images"
OUTPUT_NAMES = ("scores", "boxes", "pose2d", "pose3d")
_PRIOR_PROBABILITY = 0.01


@dataclass
class ModelConfig:
    """Network shape and the facts the readout needs (anchors, body-size prior)."""

    input_height: int = 224
    input_width: int = 384
    backbone: str = "compact"
    backbone_width: float = 1.0
    pretrained: str = ""  # file in weights/pretrained/ that initialises the backbone (input then ImageNet-normalised RGB)
    freeze_bn: bool = False  # keep the backbone's batch-norm statistics fixed
    freeze_stem: bool = False  # no gradient into the backbone below stride 8
    fpn_channels: int = 48
    level_channels: int = 32
    head_channels: int = 48
    head_depth: int = 4
    pyramid_levels: int = 2  # 3: P3-P5 (seed, output stride 4); 2: P4-P5 (compact CPU default, stride 8)
    upscale: int = 2
    lite: bool = True
    skeleton: str = "body22"
    anchors: tuple[tuple[float, float], ...] = ()  # (width, height) in input pixels, k-means
    body_size_mean_m: float = 0.0  # bone-length sum prior (see placement.BodySizePrior)
    body_size_std_m: float = 0.0
    score_threshold: float = 0.4  # readout operating point, calibrated on validation frames after training

    @property
    def finest_stride(self) -> int:
        """Stride of the finest pyramid level used (C3 has stride 8, each level doubles it)."""
        if self.pyramid_levels not in (1, 2, 3):
            raise ValueError(f"pyramid_levels must be 1, 2 or 3, got {self.pyramid_levels}")
        return 8 * 2 ** (3 - self.pyramid_levels)

    @property
    def stride(self) -> float:
        return self.finest_stride / self.upscale

    @property
    def grid(self) -> tuple[int, int]:
        s = self.finest_stride
        return math.ceil(self.input_height / s) * self.upscale, math.ceil(self.input_width / s) * self.upscale

    def anchor_boxes(self) -> np.ndarray:
        """All ``(M, 4)`` anchors of the output map (xyxy input pixels)."""
        if not self.anchors:
            raise ValueError("model config has no anchors (run k-means on the training boxes first)")
        return anchor_grid(np.asarray(self.anchors), *self.grid, self.stride)


def _conv(c_in: int, c_out: int, lite: bool) -> nn.Module:
    return DepthwiseSeparable(c_in, c_out, 3) if lite else ConvBNAct(c_in, c_out, 3)


class _Head(nn.Module):
    def __init__(self, channels: int, depth: int, out_channels: int, lite: bool, bias: float = 0.0) -> None:
        super().__init__()
        self.tower = nn.Sequential(*[_conv(channels, channels, lite) for _ in range(depth)])
        self.out = nn.Conv2d(channels, out_channels, 1)
        nn.init.normal_(self.out.weight, std=0.01)
        if self.out.bias is not None:
            nn.init.constant_(self.out.bias, bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.tower(x))


class PandaNet(nn.Module):
    """``forward(images (B, 3, H, W)) -> (scores (B, M), boxes (B, M, 4), pose2d (B, M, K, 2), pose3d (B, M, K, 3))``.

    ``scores`` are logits; ``M = grid_h * grid_w * N_A``. Images are normalised by :func:`.data.normalization_for`.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.num_anchors = len(config.anchors)
        self.num_joints = get_skeleton(config.skeleton).num_joints
        if self.num_anchors == 0:
            raise ValueError("PandaNet needs anchors in its config")
        self.backbone = build_backbone(config.backbone, width=config.backbone_width)
        self.backbone.freeze(batch_norm=config.freeze_bn, stem=config.freeze_stem)
        n = config.pyramid_levels
        if config.input_height % 32 or config.input_width % 32:
            raise ValueError(f"input size must be a multiple of 32, got {config.input_height}x{config.input_width}")
        self.fpn = FPN(
            self.backbone.out_channels[-n:], config.fpn_channels, lite=config.lite, in_strides=self.backbone.strides[-n:]
        )
        self.levels = nn.ModuleList(ConvBNAct(config.fpn_channels, config.level_channels, 3) for _ in self.fpn.strides)
        concat = config.level_channels * len(self.fpn.strides)
        self.subpixel = nn.Sequential(
            nn.Conv2d(concat, config.head_channels * config.upscale**2, 3, padding=1),
            nn.PixelShuffle(config.upscale),
            nn.BatchNorm2d(config.head_channels),
            nn.ReLU(),
        )
        a, k, c, d, lite = self.num_anchors, self.num_joints, config.head_channels, config.head_depth, config.lite
        self.score_head = _Head(c, d, a, lite, bias=-math.log((1 - _PRIOR_PROBABILITY) / _PRIOR_PROBABILITY))
        self.box_head = _Head(c, d, a * 4, lite)
        self.pose2d_head = _Head(c, d, a * k * 2, lite)
        self.pose3d_head = _Head(c, d, a * k * 3, lite)

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        pyramid = self.fpn(self.backbone(images)[-self.config.pyramid_levels :])
        size = pyramid[0].shape[-2:]
        levels = [conv(p) for conv, p in zip(self.levels, pyramid, strict=True)]
        levels = [levels[0]] + [F.interpolate(x, size=size, mode="nearest") for x in levels[1:]]
        features = self.subpixel(torch.cat(levels, dim=1))
        return (
            self._flatten(self.score_head(features), 1)[..., 0],
            self._flatten(self.box_head(features), 4),
            self._flatten(self.pose2d_head(features), 2 * self.num_joints).unflatten(-1, (self.num_joints, 2)),
            self._flatten(self.pose3d_head(features), 3 * self.num_joints).unflatten(-1, (self.num_joints, 3)),
        )

    def _flatten(self, x: Tensor, channels: int) -> Tensor:
        """``(B, A * C, H, W)`` -> ``(B, H * W * A, C)`` in (row, column, anchor) order."""
        b, _, h, w = x.shape
        return x.view(b, self.num_anchors, channels, h, w).permute(0, 3, 4, 1, 2).reshape(b, h * w * self.num_anchors, channels)
