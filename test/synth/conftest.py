"""Tiny synthetic splits shared by the synth tests (small images, few people, few frames)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from crowd_perception.synth import SequenceConfig, SynthConfig, generate, get_preset


def tiny_config(domain: str = "a", people: tuple[int, int] = (20, 20), frames: int = 4, count: int = 2,
                name: str = "tiny") -> SynthConfig:
    """A small split of preset ``train_<domain>``: 192x108 images, a crowded street within 25 m (so every
    joint state occurs: near people are cut by the image border and hidden by parked cars)."""
    base = get_preset(f"train_{domain}").with_image_size(192, 108)
    sequence = SequenceConfig(name="street", count=count, frames=frames, people=people, max_distance_m=25.0,
                              crossing_fraction=(0.3, 0.3), standing_fraction=(0.1, 0.1),
                              running_fraction=(0.1, 0.1), ego_speed_mps=(3.0, 3.0), yaw_rate_dps=(2.0, 2.0),
                              occluders=(8, 8))
    return replace(base, name=name, sequences=(sequence,))


@pytest.fixture(scope="session")
def tiny_samples():
    """All frames of the tiny domain-a split (seed 0)."""
    return list(generate(tiny_config(), seed=0))


@pytest.fixture(scope="session")
def close_samples():
    """A packed crowd within 15 m seen through a narrow (40 deg) lens: many people cut by the border."""
    config = tiny_config(people=(40, 40), frames=3, count=1, name="close")
    camera = replace(config.domain.camera, hfov_deg=(40.0, 40.0))
    config = replace(config, domain=replace(config.domain, camera=camera),
                     sequences=(replace(config.sequences[0], max_distance_m=15.0),))
    return list(generate(config, seed=0))
