"""Occluded top-down pose network: RSGNet (Dai et al., AAAI 2021) + Das et al.'s multi-task heads.

Per person crop::

    crop mode:  person crop (pixels) -> visual encoder (backbone + FPN P3, up-sampled to stride 4) -> F
                (backbone "blazepose": BlazePose's fixed stride-4 features + heatmap logits, 1x1 conv -> F)
    frame mode: whole frame -> the same encoder, once -> RoIAlign along each person's crop -> F
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
    occlusion head: per-joint logit maps (from F' and the mask logit M), pooled under the peak-normalised spatial softmax of
        H_t (of the ground-truth H_t during training, so the head learns the joint's own pixels)
                                                                                  [Das et al.]
    domain classifier on the pooled encoder features through gradient reversal   [DANN]

RSGNet's paper describes the relation parser over *candidate joints* picked from H_m; its official
code computes a *dense non-local* relation between all heatmap positions (optionally max-pooled
by 2). We follow the official dense form (static shapes, exportable to ONNX, no top-k), and keep
the paper's candidate idea as the joint-type clue: each position's encoding carries which joint
H_m says is there. Flags turn each part off for the ablations (plain top-down = no TRP, no SGM).

``input_mode="frame"`` keeps every per-person part but moves the encoder out of the per-person
path: its cost is paid once per frame, so a crowd of 60 costs little more than one person (the
latency goal of the occluded-pose node); ``head_conv="separable"`` makes the per-person 3x3
convolutions depthwise-separable for the same reason.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...core.skeletons import get_skeleton
from ...runtime.metadata import Normalization
from ..common import FPN, ConvBNAct, build_backbone
from ..common.backbones import Backbone
from ..common.blazepose import BLAZEPOSE_TO_COCO17, BlazePoseTrunk
from ..common.blocks import DepthwiseSeparable
from .grl import DomainClassifier
from .roi import roi_align, sample_grid

__all__ = [
    "PoseNetConfig",
    "OccludedPoseNet",
    "incidence_matrix",
    "head_conv3",
    "occlusion_attention",
    "pool_occlusion",
    "InferenceWrapper",
]


BLAZEPOSE = "blazepose"  # the fixed BlazePose trunk (models.common.blazepose) instead of a trainable backbone


@dataclass
class PoseNetConfig:
    """Architecture of :class:`OccludedPoseNet` (saved beside the weights)."""

    skeleton: str = "coco17"
    input_height: int = 128
    input_width: int = 96
    backbone: str = "compact"  # a name in models.common.backbones.BACKBONES, or "blazepose"
    width: float = 1.0
    channels: int = 32  # head channels (RSGNet's official head uses 32)
    type_dim: int = 32  # joint-type embedding size (RSGNet: 600-d word vectors; learned here)
    relation_pool: int = 2  # max-pool before the dense relation (official RELATION_SUB_SAMPLE)
    use_trp: bool = True
    use_sgm: bool = True
    use_mask: bool = True
    use_occlusion: bool = True
    use_domain: bool = True
    input_mode: str = "crop"  # "crop": one encoder pass per person crop; "frame": one per frame + RoIAlign
    frame_height: int = 384  # frame mode: network input (letterboxed frame)
    frame_width: int = 640
    roi_sampling: int = 1  # frame mode: bilinear samples per crop cell and axis (RoIAlign sampling ratio; 2 anti-aliases)
    head_conv: str = "full"  # per-person 3x3 convolutions: "full" or depthwise-"separable"
    # Add the backbone's stride-4 features (1x1 lateral) to the up-sampled P3. Without it the finest
    # visual detail is at stride 8: a 17 px wide pedestrian (the median training person) covers ~2
    # feature columns, too few to place left/right joints, and the heads learn the mean pose only.
    fine_skip: bool = False
    # ImageNet initialisation (a file in weights/pretrained/, see models.common.pretrained): the network then
    # normalises its BGR input with the ImageNet statistics, and the first convolution takes BGR (flipped once).
    pretrained: str = ""
    freeze_bn: bool = False  # keep the backbone's batch-norm statistics fixed (real-photo statistics survive)
    freeze_stem: bool = False  # no gradient into the backbone below stride 8
    # blazepose, coco17: add the trunk's own heatmap of each joint (learned per-joint scale) to the target
    # heatmaps, so the heads learn a correction to real-photo joint maps instead of re-deriving them
    trunk_prior: bool = False

    @property
    def stride(self) -> int:
        return 4

    @property
    def heatmap_size(self) -> tuple[int, int]:
        return self.input_height // self.stride, self.input_width // self.stride

    @property
    def network_input(self) -> tuple[int, int]:
        """``(H, W)`` of the image tensor the network takes: the crop, or the whole frame."""
        return (self.frame_height, self.frame_width) if self.input_mode == "frame" else (self.input_height, self.input_width)

    def validate(self) -> None:
        get_skeleton(self.skeleton)
        if self.input_mode not in ("crop", "frame"):
            raise ValueError(f"input_mode must be 'crop' or 'frame', got {self.input_mode!r}")
        if self.backbone == BLAZEPOSE and (self.input_mode != "crop" or self.pretrained):
            raise ValueError("backbone 'blazepose' is a person-crop network: input_mode 'crop', no 'pretrained' file")
        if self.trunk_prior and (self.backbone != BLAZEPOSE or self.skeleton != "coco17"):
            raise ValueError("trunk_prior needs backbone 'blazepose' and skeleton 'coco17' (the joints its heatmaps name)")
        if self.head_conv not in ("full", "separable"):
            raise ValueError(f"head_conv must be 'full' or 'separable', got {self.head_conv!r}")
        for name, (h, w) in (("input", (self.input_height, self.input_width)), ("frame", (self.frame_height, self.frame_width))):
            if h % 32 or w % 32:
                raise ValueError(f"{name} {h}x{w} must be a multiple of 32")
        if self.roi_sampling < 1:
            raise ValueError(f"roi_sampling must be >= 1, got {self.roi_sampling}")
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


def head_conv3(kind: str) -> type[nn.Module]:
    """The per-person 3x3 convolution block: ``ConvBNAct`` or ``DepthwiseSeparable``."""
    return DepthwiseSeparable if kind == "separable" else ConvBNAct


def _geometry_map(h: int, w: int) -> Tensor:
    """RSGNet's location clue: normalised x, y and centred offsets x - w/2, y - h/2 (scaled to ~[-1, 1])."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    return torch.stack([xs / w, ys / h, (xs - w / 2) / (w / 2), (ys - h / 2) / (h / 2)])[None]


class RelationParser(nn.Module):
    """Target-aware relation parser: clue encodings -> dense relation map -> target-aware encoding."""

    geometry: Tensor

    def __init__(
        self, channels: int, num_joints: int, type_dim: int, heatmap_size: tuple[int, int], pool: int, conv3: type[nn.Module]
    ) -> None:
        super().__init__()
        c = channels
        self.type_embedding = nn.Parameter(torch.randn(num_joints, type_dim) / math.sqrt(type_dim))
        self.vis_conv = conv3(c, c, 3)
        self.type_conv = ConvBNAct(type_dim, c, 1)
        self.loc_conv = ConvBNAct(4, c, 1)
        self.register_buffer("geometry", _geometry_map(*heatmap_size), persistent=False)
        # Cheaper than the official 3x3 (3C -> 3C -> C) fusion: 1x1 mixing, then one 3x3 (CPU budget).
        self.fuse = nn.Sequential(ConvBNAct(3 * c, c, 1), conv3(c, c, 3))
        self.pool = pool
        self.g = nn.Conv2d(c, c, 1)
        self.out = nn.Sequential(nn.Conv2d(c, c, 1), nn.GroupNorm(8, c))
        self.kpt_net = conv3(2 * c, c, 3)

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

    incidence: Tensor

    def __init__(self, channels: int, skeleton: str, conv3: type[nn.Module]) -> None:
        super().__init__()
        self.register_buffer("incidence", torch.from_numpy(incidence_matrix(skeleton)))
        self.limb_net = conv3(channels, channels, 3)
        self.weight_mlp = nn.Sequential(nn.Linear(channels, channels), nn.ReLU(inplace=True), nn.Linear(channels, channels))
        self.bias = nn.Parameter(torch.zeros(self.incidence.shape[0]))

    def forward(self, features: Tensor, joint_weight: Tensor) -> Tensor:
        w_joint = joint_weight.flatten(1)  # (K, C) of the 1x1 joint estimator
        w_limb = self.weight_mlp(self.incidence @ w_joint)  # (L, C)
        return F.conv2d(self.limb_net(features), w_limb[:, :, None, None], self.bias)


def _input_statistics(cfg: PoseNetConfig) -> tuple[Tensor, Tensor]:
    """Per-channel ``(mean, std)`` of the BGR [0, 255] input: ImageNet's (BGR order) for a pretrained
    backbone, plain [0, 1] scaling for BlazePose (as it was trained)."""
    if cfg.backbone == BLAZEPOSE:
        return torch.zeros(1, 3, 1, 1), torch.full((1, 3, 1, 1), 255.0)
    if cfg.pretrained:
        rgb = Normalization()  # ImageNet's statistics, in RGB order
        return (torch.tensor(rgb.mean[::-1]).view(1, 3, 1, 1) * 255.0,
                torch.tensor(rgb.std[::-1]).view(1, 3, 1, 1) * 255.0)
    return torch.full((1, 3, 1, 1), 127.5), torch.full((1, 3, 1, 1), 64.0)


class OccludedPoseNet(nn.Module):
    """The full network; ``forward(images, rois=None)`` -> dict of raw tensors (see module docstring).

    ``images``: float BGR in [0, 255] (normalised inside, so every backend feeds the same raw
    pixels): ``(N, 3, h, w)`` person crops in crop mode, ``(B, 3, H, W)`` frames in frame mode,
    where ``rois (B, R, 2, 3)`` (:mod:`.roi`) name the ``N = B * R`` people. Keys: ``heatmaps``
    (H_t), and when enabled ``multi_heatmaps`` (H_m), ``relation`` (N x S x S), ``mask`` (logits);
    in training ``limbs`` (logits), ``occlusion_map`` (per-joint logit maps) and ``domain``
    (logits, N); in evaluation ``occlusion`` (pooled logits, N x K).
    """

    pixel_mean: Tensor
    pixel_std: Tensor
    roi_grid: Tensor
    prior_channels: Tensor

    def __init__(self, config: PoseNetConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or PoseNetConfig()
        cfg.validate()
        k, c = get_skeleton(cfg.skeleton).num_joints, cfg.channels
        conv3 = head_conv3(cfg.head_conv)
        self.backbone: Backbone | BlazePoseTrunk
        self.fpn: FPN | None = None
        self.up: nn.Sequential | None = None
        self.fine: ConvBNAct | None = None
        self.lateral: ConvBNAct | None = None
        self.prior_scale: nn.Parameter | None = None
        if cfg.backbone == BLAZEPOSE:  # stride-4 features straight from the fixed trunk
            self.backbone = BlazePoseTrunk()
            self.lateral = ConvBNAct(BlazePoseTrunk.out_channels, c, 1)
            if cfg.trunk_prior:
                self.prior_scale = nn.Parameter(torch.ones(k))
                self.register_buffer("prior_channels", torch.tensor(BlazePoseTrunk.heatmap_channels(BLAZEPOSE_TO_COCO17)),
                                     persistent=False)
        else:
            self.backbone = build_backbone(cfg.backbone, width=cfg.width)
            self.fpn = FPN(self.backbone.out_channels, channels=max(c, 32), lite=True)
            up = [nn.ConvTranspose2d(self.fpn.channels, c, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c)]
            # with fine_skip the ReLU comes after the sum with the stride-4 lateral (same parameter names)
            self.up = nn.Sequential(*up) if cfg.fine_skip else nn.Sequential(*up, nn.ReLU())
            self.fine = ConvBNAct(self.backbone.fine_channels, c, 1, act=None) if cfg.fine_skip else None
            self.backbone.freeze(batch_norm=cfg.freeze_bn, stem=cfg.freeze_stem)
        self.mask_head = nn.Conv2d(c, 1, 1) if cfg.use_mask else None
        self.domain_head = DomainClassifier(c) if cfg.use_domain else None
        self.multi_head = nn.Conv2d(c, k, 1) if cfg.use_trp else None
        self.parser = RelationParser(c, k, cfg.type_dim, cfg.heatmap_size, cfg.relation_pool, conv3) if cfg.use_trp else None
        self.predict_net = conv3(c, c, 3)
        self.final_layer = nn.Conv2d(c, k, 1)
        self.sgm = SkeletonGraphMachine(c, cfg.skeleton, conv3) if cfg.use_sgm else None
        self.occlusion_head = OcclusionHead(c + int(cfg.use_mask), k, conv3) if cfg.use_occlusion else None
        mean, std = _input_statistics(cfg)
        self.register_buffer("pixel_mean", mean, persistent=False)
        self.register_buffer("pixel_std", std, persistent=False)
        self.register_buffer("roi_grid", sample_grid(cfg.heatmap_size, cfg.roi_sampling), persistent=False)

    def encode(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        """Stride-4 visual features ``F`` of normalised crops or frames, and with ``trunk_prior`` the
        BlazePose trunk's own heatmap of each joint (sigmoid of its logits, ``(N, K, h, w)``)."""
        x = (images - self.pixel_mean) / self.pixel_std
        if isinstance(self.backbone, BlazePoseTrunk):
            assert self.lateral is not None
            trunk = self.backbone(x)
            prior = None if self.prior_scale is None else torch.sigmoid(trunk.index_select(1, self.prior_channels))
            return self.lateral(trunk), prior
        assert self.fpn is not None and self.up is not None
        if self.fine is None:
            return self.up(self.fpn(self.backbone(x))[0]), None
        fine, outputs = self.backbone.forward_with_fine(x)
        return F.relu(self.up(self.fpn(outputs)[0]) + self.fine(fine)), None

    def person_features(self, images: Tensor, rois: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """``(N, C, h, w)`` per-person features (of the crops, or RoI-aligned from the frames) and the
        trunk's joint heatmaps where :meth:`encode` gives them (crop mode only)."""
        features, prior = self.encode(images)
        if self.config.input_mode == "crop":
            if rois is not None:
                raise ValueError("crop-mode network takes person crops, not rois")
            return features, prior
        if rois is None or rois.ndim != 4 or rois.shape[0] != images.shape[0]:
            raise ValueError("frame-mode network needs rois of shape (B, R, 2, 3) for its B frames")
        cfg = self.config
        return roi_align(features, rois, self.roi_grid, cfg.heatmap_size, cfg.network_input, cfg.roi_sampling), None

    def forward(self, images: Tensor, rois: Tensor | None = None) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        features, prior = self.person_features(images, rois)
        if self.domain_head is not None and self.training:
            out["domain"] = self.domain_head(features)
        occlusion_input = features
        if self.mask_head is not None:
            out["mask"] = self.mask_head(features)
            features = features * (1.0 + torch.sigmoid(out["mask"]))
            occlusion_input = torch.cat([features, out["mask"]], dim=1)
        pose_features = features
        if self.parser is not None and self.multi_head is not None:
            out["multi_heatmaps"] = self.multi_head(features)
            pose_features, out["relation"] = self.parser(features, out["multi_heatmaps"])
        heatmaps = self.final_layer(self.predict_net(pose_features))
        if prior is not None and self.prior_scale is not None:  # the heads learn the correction to the trunk's maps
            heatmaps = heatmaps + self.prior_scale.view(1, -1, 1, 1) * prior
        out["heatmaps"] = heatmaps
        if self.sgm is not None and self.training:
            out["limbs"] = self.sgm(pose_features, self.final_layer.weight)
        if self.occlusion_head is not None:
            occlusion_map = self.occlusion_head(occlusion_input)
            if self.training:
                out["occlusion_map"] = occlusion_map
            else:
                out["occlusion"] = pool_occlusion(occlusion_map, heatmaps)
        return out


class OcclusionHead(nn.Module):
    """Per-joint occlusion logit maps: a local term and a person-level term.

    Local: from the pose features and, when there is one, the instance-mask logit (a joint covered by
    someone else lies off the target's own pixels; Das et al. train both heads together), through one
    3x3 block of context. Person-level: a linear map of the crop's mean- and max-pooled features, added
    to every position; most hidden joints are *self*-occluded (the far arm of a person seen from the
    side, the face of one walking away), which is a matter of the whole body's orientation, not of
    the pixels at the joint. Pooling weights sum to one, so the pooled logit is local + person-level.
    """

    def __init__(self, c_in: int, num_joints: int, conv3: type[nn.Module]) -> None:
        super().__init__()
        self.local = nn.Sequential(conv3(c_in, c_in, 3), nn.Conv2d(c_in, num_joints, 1))
        self.person = nn.Linear(2 * c_in, num_joints)

    def forward(self, features: Tensor) -> Tensor:
        pooled = torch.cat([features.mean(dim=(2, 3)), features.amax(dim=(2, 3))], dim=1)
        return self.local(features) + self.person(pooled)[:, :, None, None]


def occlusion_attention(heatmaps: Tensor, temperature: float = 10.0, eps: float = 1e-3) -> Tensor:
    """Spatial pooling weights ``(N, K, h*w)`` of the occlusion head: ``softmax(temperature * H / max H)``.

    Dividing each joint's map by its peak (clamped to ``eps``) makes the pooling concentrate on the
    joint whatever the heatmap's height: a weak but sharp heatmap still pools at its maximum.
    """
    flat = heatmaps.flatten(2)
    flat = flat / flat.amax(dim=-1, keepdim=True).clamp(min=eps)
    return torch.softmax(flat * temperature, dim=-1)


def pool_occlusion(occlusion_map: Tensor, heatmaps: Tensor) -> Tensor:
    """Per-joint occlusion logits ``(N, K)``: the logit maps pooled where ``heatmaps`` put each joint."""
    return (occlusion_attention(heatmaps.detach()) * occlusion_map.flatten(2)).sum(-1)


class InferenceWrapper(nn.Module):
    """What the runtime executes: ``(heatmaps, occlusion_logits)`` (zeros if no occlusion head).

    Crop mode: ``forward(crops (N, 3, h, w))``. Frame mode: ``forward(frame (1, 3, H, W), rois (N, 2, 3))``.
    """

    def __init__(self, model: OccludedPoseNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: Tensor, rois: Tensor | None = None) -> tuple[Tensor, Tensor]:
        out = self.model(images, None if rois is None else rois[None])
        heatmaps = out["heatmaps"]
        occlusion = out.get("occlusion", heatmaps.new_zeros(heatmaps.shape[:2]))
        return heatmaps, occlusion
