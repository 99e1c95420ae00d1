"""Camera and lighting effects applied to a rendered frame: exposure/colour cast, shadows, blur,
sensor noise and JPEG compression.

Per-sequence settings (:class:`Effects`) are drawn once from the domain's ranges, so a sequence
looks consistent over time. Noise comes from a per-sequence pool cropped at a random offset each
frame (drawing 1.5 M Gaussian samples per frame would cost more than rendering the scene).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .config import DomainConfig

__all__ = ["Effects", "sample_effects"]


@dataclass
class Effects:
    """Exposure LUT, blur sigma (px), noise pool and JPEG quality of one sequence."""

    lut: np.ndarray  # (256, 1, 3) uint8 per-channel tone curve
    blur_sigma: float
    noise: np.ndarray | None  # (H + pad, W + pad, 3) int16, or None for no noise
    jpeg_quality: int

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        image = cv2.LUT(image, self.lut)
        if self.blur_sigma > 0.05:
            image = cv2.GaussianBlur(image, (0, 0), self.blur_sigma)
        if self.noise is not None:
            h, w = image.shape[:2]
            dy, dx = rng.integers(0, self.noise.shape[0] - h + 1), rng.integers(0, self.noise.shape[1] - w + 1)
            image = cv2.add(image, self.noise[dy : dy + h, dx : dx + w], dtype=cv2.CV_8U)
        if self.jpeg_quality < 100:
            ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            if not ok:
                raise RuntimeError("JPEG encoding failed")
            image = cv2.imdecode(data, cv2.IMREAD_COLOR)
        return image


def sample_effects(rng: np.random.Generator, domain: DomainConfig, width: int, height: int) -> Effects:
    """Draw one sequence's effects from the domain's ranges (blur scales with the image width)."""
    gain = rng.uniform(*domain.brightness)
    cast = rng.normal(1.0, 0.025, size=3)
    gamma = rng.uniform(0.85, 1.15)
    levels = np.arange(256, dtype=np.float64) / 255.0
    curve = np.clip(255.0 * gain * cast[None, :] * levels[:, None] ** gamma, 0, 255)
    lut = curve.astype(np.uint8).reshape(256, 1, 3)
    blur = rng.uniform(*domain.blur_sigma) * width / 960.0
    noise_std = rng.uniform(*domain.noise_std)
    noise = None
    if noise_std > 0.05:
        # A 256 px tile repeated over the frame (plus a margin for the per-frame offsets): sensor
        # noise has no structure at that scale, and the tile is cheap to draw per sequence.
        tile = np.round(rng.standard_normal((256, 256, 3), dtype=np.float32) * noise_std).astype(np.int16)
        reps = (-(-(height + 32) // 256), -(-(width + 32) // 256), 1)
        noise = np.tile(tile, reps)[: height + 32, : width + 32]
    quality = round(float(rng.uniform(*domain.jpeg_quality)))
    return Effects(lut, float(blur), noise, quality)
