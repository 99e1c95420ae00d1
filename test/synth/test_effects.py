"""Camera effects: ranges of a domain, determinism, compression, lens effects, sane statistics."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from crowd_perception.synth import generate
from crowd_perception.synth.effects import blur_kernels, sample_effects
from crowd_perception.synth.presets import DOMAINS

from .conftest import tiny_config


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
                    jpeg_quality=(100.0, 100.0), motion_blur_px=(0.0, 0.0), vignetting=(0.0, 0.0),
                    chromatic_aberration_px=(0.0, 0.0))
    effects = sample_effects(np.random.default_rng(0), clean, 80, 60)
    assert effects.noise is None and effects.jpeg_quality == 100 and effects.blur_sigma == 0.0
    assert effects.motion == (0.0, 0.0) and effects.aberration == 0.0
    out = effects.apply(_image(), np.random.default_rng(0))
    # Only the random colour cast (a uniform gain per channel) and gamma remain: a monotonic tone curve.
    assert np.all(np.diff(effects.lut.astype(int)) >= 0)
    assert np.ptp(effects.gain.reshape(-1, 3), axis=0).max() == 0
    assert np.corrcoef(out.ravel(), _image().ravel())[0, 1] > 0.95


def test_domain_b_degrades_more_than_domain_a():
    image = _image()
    err = {}
    for name in ("a", "b"):
        effects = sample_effects(np.random.default_rng(0), replace(DOMAINS[name], brightness=(1.0, 1.0)), 80, 60)
        out = effects.apply(image, np.random.default_rng(0)).astype(float)
        err[name] = np.abs(np.diff(out, axis=1) - np.diff(image.astype(float), axis=1)).mean()
    assert err["b"] > err["a"]


def _street_frame(width: int = 160, height: int = 90) -> np.ndarray:
    return next(iter(generate(tiny_config(frames=1, count=1).with_image_size(width, height), seed=5))).image


@pytest.mark.parametrize("domain", ["a", "b"])
def test_effects_keep_image_statistics_sane(domain):
    image = _street_frame()
    for seed in range(6):
        effects = sample_effects(np.random.default_rng(seed), DOMAINS[domain], 160, 90)
        out = effects.apply(image, np.random.default_rng(seed))
        assert out.shape == image.shape and out.dtype == np.uint8
        assert np.isfinite(out.astype(np.float32)).all()
        assert 0.3 * image.mean() < out.mean() < 1.7 * image.mean() + 10  # exposure changes, content stays
        assert out.std() > 0.3 * image.std()  # not washed out or flattened
        assert np.corrcoef(out.astype(float).ravel(), image.astype(float).ravel())[0, 1] > 0.6


def test_blur_kernels_are_centred_and_normalised():
    for sigma, motion in [(0.0, (0.0, 0.0)), (0.7, (2.6, 0.4)), (0.0, (3.0, 1.0)), (1.2, (2.0, 5.5))]:
        for kernel, length in zip(blur_kernels(sigma, motion), motion, strict=True):
            assert len(kernel) % 2 == 1 and np.isclose(kernel.sum(), 1.0)
            np.testing.assert_allclose(kernel, kernel[::-1], atol=1e-7)  # symmetric: content does not move
            if sigma == 0.0 and length >= 1.0:
                assert np.isclose(kernel.sum() / kernel.max(), length, atol=1e-5)  # the streak length in pixels


def test_vignetting_darkens_the_corners_and_aberration_splits_red_from_blue():
    flat = np.full((90, 160, 3), 160, np.uint8)
    domain = replace(DOMAINS["a"], brightness=(1.0, 1.0), noise_std=(0.0, 0.0), jpeg_quality=(100.0, 100.0),
                     vignetting=(0.4, 0.4), chromatic_aberration_px=(0.0, 0.0), blur_sigma=(0.0, 0.0),
                     motion_blur_px=(0.0, 0.0))
    out = sample_effects(np.random.default_rng(0), domain, 160, 90).apply(flat, np.random.default_rng(0))
    assert out[0, 0].mean() < 0.8 * out[45, 80].mean()
    edges = np.zeros((90, 480, 3), np.uint8)
    edges[:, 460:] = 255  # a vertical edge near the right border
    aberrated = sample_effects(np.random.default_rng(0), replace(domain, vignetting=(0.0, 0.0),
                                                                 chromatic_aberration_px=(5.0, 5.0)), 480, 90)
    out = aberrated.apply(edges, np.random.default_rng(0)).astype(int)
    assert aberrated.aberration == pytest.approx(2.5)  # 5 px at 960 px width
    green_edge = np.argmax(out[45, :, 1] > 127)
    blue_edge, red_edge = np.argmax(out[45, :, 0] > 127), np.argmax(out[45, :, 2] > 127)
    assert red_edge < green_edge < blue_edge  # blue magnified outwards, red pulled in, green stays
    assert green_edge == 460
