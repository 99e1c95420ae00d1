"""Image-health check: images that cannot show anyone, which the networks would fill with invented people.

Three kinds, each cheap enough for every frame (one grey conversion and a 4x4 area reduction):

* ``"image too small"``: under :data:`MIN_IMAGE_SIDE` pixels on a side;
* ``"constant image"``: every pixel within 2 grey levels (black, white, a covered lens);
* ``"noise image"``: no structure larger than a pixel. Averaging 4x4 blocks keeps most of the
  variance of a scene (its structure is low-frequency, so most of it survives even heavy sensor
  noise) but only 1/16 of independent pixel noise (a dead or unsynchronised sensor, a decoder
  emitting garbage). Below :data:`NOISE_COARSE_FRACTION` the frame is flagged. A dark,
  low-contrast scene drowned in sensor noise can be flagged too: the networks would not find
  its people either, and the count says it happened.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["MIN_IMAGE_SIDE", "NOISE_COARSE_FRACTION", "coarse_variance_fraction", "image_fault"]

MIN_IMAGE_SIDE = 32  # px: a person in a smaller image is below every benchmark's evaluated height (CityPersons: 50 px)
NOISE_COARSE_FRACTION = 0.1  # pure pixel noise keeps 1/16 = 0.0625 of its variance after 4x4 averaging
_BLOCK = 4


def coarse_variance_fraction(grey: np.ndarray) -> float:
    """Variance of the 4x4-block means over the variance of the pixels (1.0 for a constant image)."""
    height, width = (grey.shape[0] // _BLOCK) * _BLOCK, (grey.shape[1] // _BLOCK) * _BLOCK
    pixels = np.ascontiguousarray(grey[:height, :width], dtype=np.float32)
    variance = float(pixels.var())
    if variance == 0.0:
        return 1.0
    blocks = cv2.resize(pixels, (width // _BLOCK, height // _BLOCK), interpolation=cv2.INTER_AREA)
    return float(blocks.var()) / variance


def image_fault(image: np.ndarray) -> str | None:
    """Why an image cannot show anyone (``"image too small"``, ``"constant image"``, ``"noise image"``), or None."""
    if min(image.shape[:2]) < MIN_IMAGE_SIDE:
        return "image too small"
    if int(image.max()) - int(image.min()) <= 2:
        return "constant image"
    if coarse_variance_fraction(_grey(image)) < NOISE_COARSE_FRACTION:
        return "noise image"
    return None


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2 or image.shape[2] == 1:
        return image.reshape(image.shape[:2])
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_BGR2GRAY)
