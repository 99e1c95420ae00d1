"""Occluded top-down pose network: RSGNet (Dai et al., AAAI 2021) + Das et al.'s multi-task heads.

Per person crop::

    image -> visual encoder (backbone + FPN P3, up-sampled to stride 4) -> F
    F -> instance-mask head M (target person's visible pixels)        [Das et al.]
    F' = F * (1 + sigmoid(M))            pose features masked by the instance mask
    F' -> multi-joint heatmaps H_m       (every person's joints in the crop)
    F', H_m -> target-aware relation parser (TRP):
        clue encodings  visual (conv of F'), joint type (H_m x learned type embeddings),
                        location (fixed 4-channel geometry map)  -> E
        relation map A = sigmoid(E_p . E_q / sqrt(C)) between all (pooled) positions,
        relation features A @ g(E) -> target-aware encoding -> joint estimator -> H_t
    skeleton graph machine (SGM): limb estimator weights W_l = MLP(K_g W_j) from the joint
        estimator's 1x1 weights W_j through the joint-limb incidence matrix K_g -> limb maps H_l
    occlusion head: per-joint logits pooled under the spatial softmax of H_t      [Das et al.]
    domain classifier on the pooled encoder features through gradient reversal   [DANN]

RSGNet's paper describes the relation parser over *candidate joints* picked from H_m; its official
code computes a *dense non-local* relation between all heatmap positions (optionally max-pooled
by 2). We follow the official dense form (static shapes, exportable to ONNX, no top-k), and keep
the paper's candidate idea as the joint-type clue: each position's encoding carries which joint
H_m says is there. Flags turn each part off for the ablations (plain top-down = no TRP, no SGM).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...core.skeletons import get_skeleton
from ..common import FPN, ConvBNAct, build_backbone
from .grl import DomainClassifier

__all__ = ["PoseNetConfig", "OccludedPoseNet", "incidence_matrix", "occlusion_attention", "InferenceWrapper"]


@dataclass
class PoseNetConfig:
    """Architecture of :class:`OccludedPoseNet` (saved beside the weights)."""

    skeleton: str = "coco17"
    input_height: int = 128
    input_width: int = 96
    backbone: str = "compact"
    width: float = 1.0
    channels: int = 32  # head channels (RSGNet's official head uses 32)
    type_dim: int = 32  # joint-type embedding size (RSGNet: 600-d word vectors; learned here)
    relation_pool: int = 2  # max-pool before the dense relation (official RELATION_SUB_SAMPLE)
    use_trp: bool = True
    use_sgm: bool = True
    use_mask: bool = True
    use_occlusion: bool = True
    use_domain: bool = True
    # Divide each joint's H_t by its peak before the occlusion head's softmax pooling, so the pooling
    # concentrates on the predicted joint even while heatmaps are weak (off = the shipped model's pooling).
    occlusion_peak_norm: bool = False

    @property
    def stride(self) -> int:
        return 4

    @property
    def heatmap_size(self) -> tuple[int, int]:
        return self.input_height // self.stride, self.input_width // self.stride

    def validate(self) -> None:
        get_skeleton(self.skeleton)
        if self.input_height % 32 or self.input_width % 32:
            raise ValueError(f"input {self.input_height}x{self.input_width} must be a multiple of 32")
        h, w = self.heatmap_size
        if self.use_trp and (h % self.relation_pool or w % self.relation_pool):
            raise ValueError(f"heatmap {h}x{w} not divisible by relation_pool {self.relation_pool}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PoseNetConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown pose network config keys: {sorted(unknown)}")
        return cls(**data)


def incidence_matrix(skeleton: str) -> np.ndarray:
    """Joint-limb incidence ``K_g (L, K)``: 1 where joint ``k`` is an end of limb ``l``."""
    skel = get_skeleton(skeleton)
    k_g = np.zeros((len(skel.limbs), skel.num_joints), dtype=np.float32)
    for i, (a, b) in enumerate(skel.limbs):
        k_g[i, a] = k_g[i, b] = 1.0
    return k_g


def _geometry_map(h: int, w: int) -> Tensor:
    """RSGNet's location clue: normalised x, y and centred offsets x - w/2, y - h/2 (scaled to ~[-1, 1])."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    return torch.stack([xs / w, ys / h, (xs - w / 2) / (w / 2), (ys - h / 2) / (h / 2)])[None]


class RelationParser(nn.Module):
    """Target-aware relation parser: clue encodings -> dense relation map -> target-aware encoding."""

    def __init__(self, channels: int, num_joints: int, type_dim: int, heatmap_size: tuple[int, int], pool: int) -> None:
        super().__init__()
        c = channels
        self.type_embedding = nn.Parameter(torch.randn(num_joints, type_dim) / math.sqrt(type_dim))
        self.vis_conv = ConvBNAct(c, c, 3)
        self.type_conv = ConvBNAct(type_dim, c, 1)
        self.loc_conv = ConvBNAct(4, c, 1)
        self.register_buffer("geometry", _geometry_map(*heatmap_size), persistent=False)
        # Cheaper than the official 3x3 (3C -> 3C -> C) fusion: 1x1 mixing, then one 3x3 (CPU budget).
        self.fuse = nn.Sequential(ConvBNAct(3 * c, c, 1), ConvBNAct(c, c, 3))
        self.pool = pool
        self.g = nn.Conv2d(c, c, 1)
        self.out = nn.Sequential(nn.Conv2d(c, c, 1), nn.GroupNorm(8, c))
        self.kpt_net = ConvBNAct(2 * c, c, 3)

    def forward(self, features: Tensor, multi_heatmaps: Tensor) -> tuple[Tensor, Tensor]:
        b, c, h, w = features.shape
        # Joint-type clue: each position's H_m scores weight the joint type embeddings.
        type_map = torch.einsum("bkhw,kt->bthw", multi_heatmaps, self.type_embedding)
        geometry = self.geometry.expand(b, -1, -1, -1)
        clues = torch.cat([self.vis_conv(features), self.type_conv(type_map), self.loc_conv(geometry)], dim=1)
        encoding = self.fuse(clues)
        x = F.max_pool2d(encoding, self.pool) if self.pool > 1 else encoding
        flat = x.flatten(2)  # (B, C, S)
        relation = torch.sigmoid(torch.einsum("bcs,bct->bst", flat, flat) / math.sqrt(c))
        related = torch.einsum("bst,bct->bcs", relation, self.g(x).flatten(2)) / flat.shape[-1]
        related = related.reshape(b, c, *x.shape[2:])
        if self.pool > 1:
            related = F.interpolate(related, size=(h, w), mode="bilinear", align_corners=False)
        target_aware = self.kpt_net(torch.cat([self.out(related), encoding], dim=1))
        return target_aware, relation


class SkeletonGraphMachine(nn.Module):
    """Limb maps whose 1x1 estimator weights come from the joint estimator's through ``K_g`` and an MLP."""

    def __init__(self, channels: int, skeleton: str) -> None:
        super().__init__()
        self.register_buffer("incidence", torch.from_numpy(incidence_matrix(skeleton)))
        self.limb_net = ConvBNAct(channels, channels, 3)
        self.weight_mlp = nn.Sequential(nn.Linear(channels, channels), nn.ReLU(inplace=True), nn.Linear(channels, channels))
        self.bias = nn.Parameter(torch.zeros(self.incidence.shape[0]))

    def forward(self, features: Tensor, joint_weight: Tensor) -> Tensor:
        w_joint = joint_weight.flatten(1)  # (K, C) of the 1x1 joint estimator
        w_limb = self.weight_mlp(self.incidence @ w_joint)  # (L, C)
        return F.conv2d(self.limb_net(features), w_limb[:, :, None, None], self.bias)


class OccludedPoseNet(nn.Module):
    """The full network; ``forward(images)`` -> dict of raw tensors (see module docstring).

    ``images``: ``(N, 3, H, W)`` float BGR in [0, 255] (normalised inside, so every backend feeds
    the same raw pixels). Keys: ``heatmaps`` (H_t), ``occlusion`` (logits, N x K), and when enabled
    ``multi_heatmaps`` (H_m), ``relation`` (N x S x S), ``limbs`` (logits), ``mask`` (logits),
    ``domain`` (logits, N).
    """

    def __init__(self, config: PoseNetConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or PoseNetConfig()
        cfg.validate()
        k, c = get_skeleton(cfg.skeleton).num_joints, cfg.channels
        self.backbone = build_backbone(cfg.backbone, width=cfg.width)
        self.fpn = FPN(self.backbone.out_channels, channels=max(c, 32), lite=True)
        self.up = nn.Sequential(
            nn.ConvTranspose2d(self.fpn.channels, c, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU()
        )
        self.mask_head = nn.Conv2d(c, 1, 1) if cfg.use_mask else None
        self.domain_head = DomainClassifier(c) if cfg.use_domain else None
        self.multi_head = nn.Conv2d(c, k, 1) if cfg.use_trp else None
        self.parser = RelationParser(c, k, cfg.type_dim, cfg.heatmap_size, cfg.relation_pool) if cfg.use_trp else None
        self.predict_net = ConvBNAct(c, c, 3)
        self.final_layer = nn.Conv2d(c, k, 1)
        self.sgm = SkeletonGraphMachine(c, cfg.skeleton) if cfg.use_sgm else None
        self.occlusion_head = nn.Conv2d(c, k, 1) if cfg.use_occlusion else None
        self.register_buffer("pixel_mean", torch.full((1, 3, 1, 1), 127.5), persistent=False)
        self.register_buffer("pixel_std", torch.full((1, 3, 1, 1), 64.0), persistent=False)

    def encode(self, images: Tensor) -> Tensor:
        """Stride-4 visual features ``F`` of normalised crops."""
        x = (images - self.pixel_mean) / self.pixel_std
        return self.up(self.fpn(self.backbone(x))[0])

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        features = self.encode(images)
        if self.domain_head is not None and self.training:
            out["domain"] = self.domain_head(features)
        if self.mask_head is not None:
            out["mask"] = self.mask_head(features)
            features = features * (1.0 + torch.sigmoid(out["mask"]))
        pose_features = features
        if self.parser is not None:
            out["multi_heatmaps"] = self.multi_head(features)
            pose_features, out["relation"] = self.parser(features, out["multi_heatmaps"])
        heatmaps = self.final_layer(self.predict_net(pose_features))
        out["heatmaps"] = heatmaps
        if self.sgm is not None and self.training:
            out["limbs"] = self.sgm(pose_features, self.final_layer.weight)
        if self.occlusion_head is not None:
            attention = occlusion_attention(heatmaps.detach(), self.config.occlusion_peak_norm)
            out["occlusion"] = (attention * self.occlusion_head(features).flatten(2)).sum(-1)
        return out


def occlusion_attention(heatmaps: Tensor, peak_norm: bool, temperature: float = 10.0, eps: float = 1e-3) -> Tensor:
    """Spatial pooling weights ``(N, K, h*w)`` of the occlusion head: ``softmax(temperature * H)``.

    With ``peak_norm`` each joint's map is first divided by its peak (clamped to ``eps``), so a weak but
    sharp heatmap still pools at its maximum instead of almost uniformly over the crop.
    """
    flat = heatmaps.flatten(2)
    if peak_norm:
        flat = flat / flat.amax(dim=-1, keepdim=True).clamp(min=eps)
    return torch.softmax(flat * temperature, dim=-1)


class InferenceWrapper(nn.Module):
    """What the runtime executes: ``images -> (heatmaps, occlusion_logits)`` (zeros if no occlusion head)."""

    def __init__(self, model: OccludedPoseNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        out = self.model(images)
        heatmaps = out["heatmaps"]
        occlusion = out.get("occlusion", heatmaps.new_zeros(heatmaps.shape[:2]))
        return heatmaps, occlusion
