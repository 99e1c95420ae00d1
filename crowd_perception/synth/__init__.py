"""Synthetic crowd-scene engine: JTA-like pedestrians in procedural streets seen from a vehicle.

``generate(preset_or_config, seed)`` yields :class:`Sample` (BGR image + complete
:class:`~crowd_perception.core.annotations.FrameAnnotation`); ``get_preset(name)`` returns the
named splits (``demo``, ``train_a``, ``val_a``, ``train_b``, ``val_b``, ``bench``).
"""

from .config import CameraConfig, DomainConfig, SequenceConfig, SynthConfig
from .generator import Sample, generate, sequence_names
from .presets import PRESETS, get_preset

__all__ = [
    "CameraConfig",
    "DomainConfig",
    "PRESETS",
    "Sample",
    "SequenceConfig",
    "SynthConfig",
    "generate",
    "get_preset",
    "sequence_names",
]
