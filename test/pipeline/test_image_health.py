"""The image-health check flags images that cannot show anyone and passes real scenes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from crowd_perception.pipeline.image_health import image_fault

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"


@pytest.mark.parametrize("shape", [(48, 64, 3), (32, 32, 3), (480, 640, 3), (1080, 1920, 3), (120, 160)])
def test_pixel_noise_is_flagged(shape):
    rng = np.random.default_rng(0)
    assert image_fault(rng.integers(0, 256, shape, dtype=np.uint8)) == "noise image"
    gaussian = np.clip(rng.normal(128, 30, shape), 0, 255).astype(np.uint8)
    assert image_fault(gaussian) == "noise image"


@pytest.mark.parametrize("value", [0, 255, 17])
def test_constant_images_are_flagged(value):
    image = np.full((48, 64, 3), value, np.uint8)
    image[3, 5] = value - 2 if value else 2  # within 2 grey levels is still constant
    assert image_fault(image) == "constant image"


@pytest.mark.parametrize("shape", [(1, 1, 3), (16, 16, 3), (31, 640, 3)])
def test_tiny_images_are_flagged(shape):
    assert image_fault(np.zeros(shape, np.uint8)) == "image too small"


def test_structured_images_pass_also_with_sensor_noise():
    ramp = np.tile(np.linspace(0, 255, 64, dtype=np.float32), (48, 1))
    scene = np.stack([ramp, ramp.T[:48, :48].repeat(2, axis=1)[:, :64], 255 - ramp], axis=-1)
    assert image_fault(scene.astype(np.uint8)) is None
    noisy = scene + np.random.default_rng(1).normal(0, 30, scene.shape)
    assert image_fault(np.clip(noisy, 0, 255).astype(np.uint8)) is None
    assert image_fault(np.ascontiguousarray(scene.astype(np.uint8)[..., :1])) is None  # one channel


@pytest.mark.skipif(not REAL.is_dir(), reason="real fixtures not present")
def test_real_frames_pass():
    paths = sorted(REAL.rglob("*.jpg"))
    assert paths
    for path in paths:
        assert image_fault(cv2.imread(str(path))) is None, path
