"""PandaNet's complete configuration: the network (:class:`~.model.ModelConfig`), the training data,
the optimisation, and the anchor selection and loss weighting modes; ``--set section.field=value``
changes it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...training.config import TrainConfig
from .loss import WEIGHTING_MODES
from .model import ModelConfig
from .targets import SELECTION_MODES

__all__ = ["DataConfig", "Pose3DConfig"]


@dataclass
class DataConfig:
    """Training data: synthetic preset (or a JTA directory), person filters, anchor clustering sample."""

    preset: str = "train_a"
    val_preset: str = "val_a"
    jta_root: str = ""  # when set, train on real JTA data through the formats reader instead
    min_visible_fraction: float = 0.1
    min_height_px: float = 6.0  # in network-input pixels
    anchor_samples: int = 200  # images used for k-means anchors and the body-size prior
    num_anchors: int = 10
    val_images: int = 64  # periodic evaluation during training
    calibration_images: int = 100  # validation frames for the score-threshold calibration after training
    hflip: bool = True


@dataclass
class Pose3DConfig:
    """Everything a PandaNet run needs; stored with every checkpoint and the shipped weights."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    selection: str = "pose"  # anchor selection: none | box | pose
    weighting: str = "joint"  # fixed | task | anchor | joint

    def __post_init__(self) -> None:
        if self.selection not in SELECTION_MODES:
            raise ValueError(f"unknown anchor selection {self.selection!r}; choose from {SELECTION_MODES}")
        if self.weighting not in WEIGHTING_MODES:
            raise ValueError(f"unknown weighting {self.weighting!r}; choose from {WEIGHTING_MODES}")
