"""Configuration validation: bad values are rejected with a clear message."""

from __future__ import annotations

from dataclasses import replace

import pytest

from crowd_perception.synth import SequenceConfig, get_preset


def test_with_image_size_and_frames():
    config = get_preset("train_a").with_image_size(1920, 1080).with_frames(count=3, frames=7)
    assert (config.domain.camera.width, config.domain.camera.height) == (1920, 1080)
    assert config.num_frames == 21
    config.validate()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: replace(c, fps=0.0), "fps"),
        (lambda c: replace(c, sequences=()), "no sequences"),
        (lambda c: c.with_image_size(8, 8), "image size"),
        (lambda c: replace(c, domain=replace(c.domain, name="c")), "domain name"),
        (lambda c: replace(c, domain=replace(c.domain, palette="nope")), "unknown palette"),
        (lambda c: replace(c, domain=replace(c.domain, noise_std=(3.0, 1.0))), "noise_std"),
        (lambda c: replace(c, sequences=(SequenceConfig(people=(10, 5)),)), "people"),
        (lambda c: replace(c, sequences=(SequenceConfig(name="a b"),)), "sequence name"),
        (lambda c: replace(c, sequences=(SequenceConfig(), SequenceConfig())), "duplicate"),
    ],
)
def test_invalid_configs_are_rejected(change, message):
    config = change(get_preset("val_a"))
    with pytest.raises(ValueError, match=message):
        config.validate()
