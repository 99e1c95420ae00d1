"""PandaNet's complete configuration: the network (:class:`~.model.ModelConfig`), the training data,
the optimisation, and the anchor selection and loss weighting modes; ``--set section.field=value``
changes it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...formats import FormatError
from ...formats.mixture import SourceSpec, parse_sources
from ...training.config import TrainConfig
from .loss import WEIGHTING_MODES
from .model import ModelConfig
from .targets import SELECTION_MODES

__all__ = ["SOURCES_3D", "DataConfig", "Pose3DConfig"]

SOURCES_3D = ("synth", "jta")  # the sources whose people carry 3D joints


@dataclass
class DataConfig:
    """Training data: synthetic preset (or a JTA directory, or a mixture), person filters, anchor
    clustering sample.

    ``mix`` (``train pose3d --data``), when set, replaces ``preset`` and ``jta_root``: a weighted
    mixture (:func:`crowd_perception.formats.mixture.parse_sources`) of ``synth:<preset>`` and
    ``jta:<JTA root>`` parts, the only sources with 3D joints. Validation draws the same parts'
    validation splits by the same weights (``val_preset`` for synthetic parts, ``annotations/val``
    of a JTA root).
    """

    preset: str = "train_a"
    val_preset: str = "val_a"
    jta_root: str = ""  # when set, train on real JTA data through the formats reader instead
    mix: str = ""  # e.g. "synth:train_a@0.8,jta:/data/JTA@0.2"
    min_visible_fraction: float = 0.1
    min_height_px: float = 6.0  # in network-input pixels
    anchor_samples: int = 200  # images used for k-means anchors and the body-size prior
    num_anchors: int = 10
    val_images: int = 64  # periodic evaluation during training
    calibration_images: int = 100  # validation frames for the score-threshold calibration after training
    hflip: bool = True

    def __post_init__(self) -> None:
        self.sources()

    def sources(self) -> list[SourceSpec]:
        """The training parts: ``mix``, else the JTA root ``jta_root`` or the synthetic ``preset``;
        a source without 3D joints is a :class:`FormatError` naming it."""
        if self.mix:
            specs = parse_sources(self.mix)
        else:
            specs = [SourceSpec("jta", self.jta_root) if self.jta_root else SourceSpec("synth", self.preset)]
        for spec in specs:
            if spec.source not in SOURCES_3D:
                raise FormatError(
                    f"data source {spec.name!r} has no 3D joints: train pose3d takes synth:<preset> and jta:<JTA root>"
                )
        return specs


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
