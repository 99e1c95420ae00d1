"""Camera effects: ranges of a domain, determinism, compression."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from crowd_perception.synth.effects import sample_effects
from crowd_perception.synth.presets import DOMAINS


def _image() -> np.ndarray:
    rng = np.random.default_rng(0)
    image = np.full((60, 80, 3), 120, np.uint8)
    image[20:40, 20:60] = rng.integers(0, 255, (20, 40, 3), dtype=np.uint8)
    return image


def test_effects_are_deterministic_and_keep_the_image_format():
    domain = DOMAINS["b"]
    a = sample_effects(np.random.default_rng(3), domain, 80, 60).apply(_image(), np.random.default_rng(1))
    b = sample_effects(np.random.default_rng(3), domain, 80, 60).apply(_image(), np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (60, 80, 3) and a.dtype == np.uint8


def test_clean_domain_settings_change_nothing():
    clean = replace(DOMAINS["a"], brightness=(1.0, 1.0), blur_sigma=(0.0, 0.0), noise_std=(0.0, 0.0),
                    jpeg_quality=(100.0, 100.0))
    effects = sample_effects(np.random.default_rng(0), clean, 80, 60)
    assert effects.noise is None and effects.jpeg_quality == 100 and effects.blur_sigma == 0.0
    out = effects.apply(_image(), np.random.default_rng(0))
    # Only the random colour cast and gamma remain: a monotonic tone curve.
    assert np.all(np.diff(effects.lut[:, 0, :].astype(int), axis=0) >= 0)
    assert np.corrcoef(out.ravel(), _image().ravel())[0, 1] > 0.95


def test_domain_b_degrades_more_than_domain_a():
    image = _image()
    err = {}
    for name in ("a", "b"):
        effects = sample_effects(np.random.default_rng(0), replace(DOMAINS[name], brightness=(1.0, 1.0)), 80, 60)
        out = effects.apply(image, np.random.default_rng(0)).astype(float)
        err[name] = np.abs(np.diff(out, axis=1) - np.diff(image.astype(float), axis=1)).mean()
    assert err["b"] > err["a"]
