"""The occluded pose network's complete training configuration (network, data, crop/frame bank,
augmentation, loss weights, optimisation) and its named presets; ``--set section.field=value``
changes a preset. ``cpu_blazepose`` (shipped) is RSGNet heads on BlazePose's fixed real-photo trunk,
``cpu`` the compact frame-mode model (shipped before it), ``cpu_crop`` its crop-mode counterpart,
``gpu`` 256x192 crops of 736x1280 frames, ``smoke`` a two-step test run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ...training import TrainConfig
from .data import AugmentConfig, BankConfig
from .loss import LossWeights
from .model import BLAZEPOSE, PoseNetConfig

__all__ = ["DataConfig", "PoseTrainingConfig", "PRESETS"]


@dataclass
class DataConfig:
    """Where crops come from: the synthetic engine (``synth``) or a COCO-style file (``coco``).

    ``mix`` (``train pose --data``), when set, replaces ``source``, the presets and ``coco_json``:
    a weighted mixture of sources (:mod:`.sources`) sharing ``source_frames`` frames (crop mode:
    ``source_crops`` crops) by weight, target-domain parts included.
    """

    source: str = "synth"  # "synth" | "coco"
    mix: str = ""  # e.g. "synth:train_a@0.6,coco:/data/coco/person_keypoints_train2017.json@0.3,crowdhuman:/data/ch.odgt@0.1"
    source_preset: str = "train_a"  # synthetic source domain (keypoints)
    target_preset: str = "train_b"  # synthetic target domain (boxes + masks), used with model.use_domain
    source_crops: int = 3000  # crop mode
    target_crops: int = 1000
    source_frames: int = 600  # frame mode
    target_frames: int = 200
    rois_per_frame: int = 8  # frame mode: people (RoIs) trained per frame and step
    coco_json: str = ""  # COCO / CrowdPose / OCHuman keypoints JSON (source = "coco")
    image_root: str = ""
    bank_cache: str = ""  # .npz path: reuse the bank if it exists, else build and save it
    seed: int = 0


@dataclass
class PoseTrainingConfig:
    model: PoseNetConfig = field(default_factory=PoseNetConfig)
    data: DataConfig = field(default_factory=DataConfig)
    bank: BankConfig = field(default_factory=BankConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    loss: LossWeights = field(default_factory=LossWeights)
    train: TrainConfig = field(default_factory=TrainConfig)


def _cpu() -> PoseTrainingConfig:
    """The compact model (shipped before ``cpu_blazepose``): frame mode (one encoder pass per 384x640 frame) and a light per-person
    head (16 channels, depthwise-separable 3x3, relation over 4x4-pooled cells) for the CPU latency goal."""
    return PoseTrainingConfig(
        model=PoseNetConfig(input_mode="frame", head_conv="separable", channels=16, type_dim=16, relation_pool=4, fine_skip=True),
        data=DataConfig(bank_cache="runs/pose2d/frames_cpu.npz"),
        augment=AugmentConfig(zoom=2.5),
        loss=LossWeights(either_side=True),
        train=TrainConfig(
            steps=8000, batch_size=4, lr=2e-3, warmup_steps=200, threads=2, log_every=50, checkpoint_every=500, max_minutes=80
        ),
    )


def _cpu_mobilenetv2() -> PoseTrainingConfig:
    """``cpu`` on the ImageNet MobileNet v2 (frozen batch-norm statistics and stride-4 stem), its
    stride-4 features skipped into the per-person head: real-photo filters the synthetic data cannot teach."""
    cpu = _cpu()
    model = replace(cpu.model, channels=32, backbone="mobilenetv2", pretrained="mobilenetv2_imagenet.safetensors",
                    freeze_bn=True, freeze_stem=True)
    train = replace(cpu.train, steps=6000, lr=1e-3, threads=1, checkpoint_every=200, max_minutes=100)
    return replace(cpu, model=model, train=train)


def _cpu_crop() -> PoseTrainingConfig:
    """The compact crop-mode model (one encoder pass per person crop; the top-down baseline)."""
    return PoseTrainingConfig(
        data=DataConfig(bank_cache="runs/pose2d/bank_cpu.npz"),
        train=TrainConfig(
            steps=600, batch_size=32, lr=2e-3, warmup_steps=50, threads=1, log_every=20, checkpoint_every=100, max_minutes=32
        ),
    )


def _cpu_blazepose() -> PoseTrainingConfig:
    """224x160 person crops through BlazePose's fixed trunk (real-photo features, converted from the
    mediapipe wheel); only the RSGNet heads (TRP, SGM, mask, occlusion, domain) train, on synthetic
    crops, as a correction added to the trunk's own joint heatmaps (``trunk_prior``). Sides as labelled:
    the trunk's heatmaps already tell left from right on real people. 224x160 and a light head (16
    channels, separable 3x3) keep the demo's pose stage near its frame budget; at 256x192 the trunk
    is more accurate on real people and about 1.5x slower. 400 steps: a longer schedule fits the
    synthetic people better and the real ones worse (RESULTS ``pose2d-blazepose-synthetic``, ``pose2d-real``)."""
    return PoseTrainingConfig(
        model=PoseNetConfig(
            input_height=224, input_width=160, backbone=BLAZEPOSE, channels=16, type_dim=16, relation_pool=4,
            head_conv="separable", trunk_prior=True,
        ),
        data=DataConfig(source_crops=2000, target_crops=600, bank_cache="runs/pose2d/bank_blazepose.npz"),
        train=TrainConfig(
            steps=400, batch_size=16, lr=2e-3, warmup_steps=50, threads=1, log_every=20, checkpoint_every=100, max_minutes=30
        ),
    )


def _gpu() -> PoseTrainingConfig:
    return PoseTrainingConfig(
        model=PoseNetConfig(
            input_height=256, input_width=192, backbone="resnet50", channels=64, input_mode="frame", frame_height=736, frame_width=1280
        ),
        data=DataConfig(source_frames=12000, target_frames=4000, rois_per_frame=16),
        train=TrainConfig(steps=60000, batch_size=8, lr=1e-3, warmup_steps=500, device="auto"),
    )


def _smoke() -> PoseTrainingConfig:
    return PoseTrainingConfig(
        model=PoseNetConfig(
            input_height=64, input_width=64, width=0.25, channels=16, type_dim=8, input_mode="frame", frame_height=96, frame_width=160
        ),
        data=DataConfig(source_crops=8, target_crops=4, source_frames=3, target_frames=2, rois_per_frame=3),
        bank=BankConfig(min_height=8.0),
        train=TrainConfig(steps=2, batch_size=2, warmup_steps=1, threads=1, log_every=1, checkpoint_every=0),
    )


PRESETS: dict[str, Callable[[], PoseTrainingConfig]] = {
    "cpu": _cpu,
    "cpu_mobilenetv2": _cpu_mobilenetv2,
    "cpu_crop": _cpu_crop,
    "cpu_blazepose": _cpu_blazepose,
    "gpu": _gpu,
    "smoke": _smoke,
}
