"""Presets exist, validate, and the two domains really differ."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.synth import PRESETS, generate, get_preset, sequence_names
from crowd_perception.synth.presets import BENCH_DENSITIES

from .conftest import tiny_config


@pytest.mark.parametrize("name", ["demo", "train_a", "val_a", "train_b", "val_b", "bench"])
def test_presets_are_valid(name):
    config = get_preset(name).validate()
    assert config.name == name and config.num_frames > 0
    assert config.domain.name == ("b" if name.endswith("_b") else "a")
    width, height = config.domain.camera.width, config.domain.camera.height
    assert width <= 1920 and height <= 1080 and width / height == pytest.approx(16 / 9, rel=0.02)


def test_unknown_preset_lists_known_ones():
    with pytest.raises(ValueError, match=r"known:.*train_a"):
        get_preset("nope")
    assert set(PRESETS) >= {"demo", "train_a", "val_a", "train_b", "val_b", "bench"}


def test_bench_sequences_name_their_density():
    names = sequence_names(get_preset("bench"))
    for density in BENCH_DENSITIES:
        assert any(f"_{density}_" in n for n in names)
    assert len(set(names)) == len(names)


def test_train_and_val_never_share_scenes():
    train = next(generate(get_preset("train_a").with_image_size(96, 54).with_frames(1, 1), seed=0))
    val = next(generate(get_preset("val_a").with_image_size(96, 54).with_frames(1, 1), seed=0))
    assert not np.array_equal(train.image, val.image)


def _stats(domain: str) -> dict[str, float]:
    samples = list(generate(tiny_config(domain, frames=1, count=4), seed=0))
    images = np.stack([s.image for s in samples]).astype(np.float32)
    gray = images.mean(axis=-1)
    fx = np.mean([s.annotation.camera.fx for s in samples])
    # High-frequency energy: mean absolute horizontal gradient (blur lowers it).
    sharpness = float(np.abs(np.diff(gray, axis=2)).mean())
    saturation = float((images.max(axis=-1) - images.min(axis=-1)).mean())
    return {"fx": fx, "sharpness": sharpness, "brightness": float(gray.mean()), "saturation": saturation}


def test_domains_differ():
    a, b = _stats("a"), _stats("b")
    assert b["fx"] < a["fx"]  # wider field of view in domain b
    assert b["brightness"] < a["brightness"]  # evening light
    samples_b = list(generate(tiny_config("b", frames=1, count=1), seed=0))
    assert samples_b[0].annotation.domain == "b"
    ha = get_preset("train_a").domain.camera.mount_height_m
    hb = get_preset("train_b").domain.camera.mount_height_m
    assert hb[0] > ha[1]  # higher camera
