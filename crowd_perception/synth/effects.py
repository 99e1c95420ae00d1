"""Camera effects applied to a rendered frame, in the order light meets them: lens (lateral
chromatic aberration, defocus and motion blur, vignetting), image processing (exposure, white
balance and gamma as one tone curve), sensor noise and JPEG compression.

Per-sequence settings (:class:`Effects`) are drawn once from the domain's ranges, so a sequence
looks consistent over time. Noise comes from a per-sequence pool cropped at a random offset each
frame (drawing 1.5 M Gaussian samples per frame would cost more than rendering the scene). None of
the effects moves the image content by more than a fraction of a pixel (aberration shifts only
red and blue, symmetrically), so the labels stay exact; geometric lens distortion is left out for
that reason: it would bend the pinhole camera that the 3D labels and the intrinsics describe.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .config import DomainConfig

__all__ = ["Effects", "sample_effects", "blur_kernels"]

_MIN_SIGMA = 0.3  # px: a narrower Gaussian puts under 0.4 % of a pixel's light on its neighbours
_MIN_SHIFT = 0.25  # px: a smaller red/blue shift at the corners is invisible after demosaicing and JPEG


@dataclass
class Effects:
    """Everything one sequence's camera does to its frames.

    ``gain`` (H, W, 3) uint8 per-pixel, per-channel gain (255 = 1): vignetting times the white
    balance error, applied in linear light; ``lut`` (256,) uint8 exposure and gamma curve, the same
    for every channel (a shared table is three times cheaper than one per channel);
    ``blur_sigma`` defocus (px); ``motion`` ``(x, y)`` streak lengths (px) of the camera's motion
    during the exposure; ``aberration`` red/blue shift at the image corners (px); ``noise``
    (2, H + pad, W + pad, 3) uint8 positive and negative parts of a sensor-noise pool, or None;
    ``jpeg_quality`` (100 = no compression).
    """

    gain: np.ndarray
    lut: np.ndarray
    blur_sigma: float
    noise: np.ndarray | None
    jpeg_quality: int
    motion: tuple[float, float] = (0.0, 0.0)
    aberration: float = 0.0

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The degraded copy of a BGR uint8 frame (same size and type)."""
        if self.aberration > _MIN_SHIFT:
            image = _aberrate(image, self.aberration)
        if self.blur_sigma > _MIN_SIGMA or max(self.motion) >= 1.0:
            kx, ky = blur_kernels(self.blur_sigma, self.motion)
            image = cv2.sepFilter2D(image, -1, kx, ky, borderType=cv2.BORDER_REFLECT)
        image = cv2.multiply(image, self.gain, scale=1.0 / 255.0)
        h, w = image.shape[:2]
        image = cv2.LUT(image.reshape(h, -1), self.lut).reshape(h, w, 3)
        if self.noise is not None:
            dy, dx = rng.integers(0, self.noise.shape[1] - h + 1), rng.integers(0, self.noise.shape[2] - w + 1)
            cv2.add(image, self.noise[0, dy : dy + h, dx : dx + w], dst=image)
            cv2.subtract(image, self.noise[1, dy : dy + h, dx : dx + w], dst=image)
        if self.jpeg_quality < 100:
            ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            if not ok:
                raise RuntimeError("JPEG encoding failed")
            decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
            if decoded is None:
                raise RuntimeError("JPEG decoding failed")
            image = decoded
        return image


def blur_kernels(sigma: float, motion: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Separable 1D kernels (x, y): a Gaussian of ``sigma`` convolved with a box of the streak length.

    Kernels are symmetric with an odd number of taps, so the image content does not move; a streak
    length between odd integers gets fractional end taps, so the kernel grows smoothly.
    """
    radius = max(1, int(np.ceil(3 * sigma)))
    gauss = np.exp(-0.5 * (np.arange(-radius, radius + 1) / max(sigma, 1e-3)) ** 2) if sigma > _MIN_SIGMA else np.ones(1)
    kernels = []
    for length in motion:
        taps = 2 * int(np.floor((max(length, 1.0) - 1.0) / 2.0)) + 1
        tail = (max(length, 1.0) - taps) / 2.0
        box = np.concatenate([[tail], np.ones(taps), [tail]]) if tail > 1e-3 else np.ones(taps)
        kernel = np.convolve(gauss, box)
        kernels.append((kernel / kernel.sum()).astype(np.float32))
    return kernels[0], kernels[1]


def _aberrate(image: np.ndarray, shift: float) -> np.ndarray:
    """Lateral chromatic aberration: blue magnified and red shrunk about the centre, ``shift`` px at the corners."""
    h, w = image.shape[:2]
    cx, cy = (w - 1) / 2, (h - 1) / 2
    scale = shift / np.hypot(cx, cy)
    channels = list(cv2.split(image))
    for c, sign in ((0, 1.0), (2, -1.0)):
        f = 1.0 / (1.0 + sign * scale)  # destination -> source: sampling closer to the centre magnifies
        m = np.array([[f, 0.0, (1 - f) * cx], [0.0, f, (1 - f) * cy]])
        channels[c] = cv2.warpAffine(channels[c], m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                     borderMode=cv2.BORDER_REPLICATE)
    return cv2.merge(channels)


def _gain_map(vignetting: float, cast: np.ndarray, width: int, height: int) -> np.ndarray:
    """(H, W, 3) uint8: ``1 - vignetting * r^2`` (``r`` = 1 at the corners) times ``cast / max(cast)``, times 255.

    The map is smooth, so it is computed on an eighth of the pixels and upsampled.
    """
    small_w, small_h = max(2, width // 8), max(2, height // 8)
    half = np.float32(np.hypot(width, height) / 2)
    x = ((np.arange(small_w, dtype=np.float32) + 0.5) * (width / small_w) - width / 2) / half
    y = ((np.arange(small_h, dtype=np.float32) + 0.5) * (height / small_h) - height / 2) / half
    falloff = 1.0 - vignetting * (x[None, :] ** 2 + y[:, None] ** 2)
    balance = (cast / cast.max()).astype(np.float32)
    small = np.round(255.0 * falloff[..., None] * balance).astype(np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def sample_effects(rng: np.random.Generator, domain: DomainConfig, width: int, height: int) -> Effects:
    """Draw one sequence's effects from the domain's ranges (blur, streaks and aberration scale with the width)."""
    gain = rng.uniform(*domain.brightness)
    cast = np.clip(rng.normal(1.0, 0.025, size=3), 0.5, 1.5)
    gamma = rng.uniform(0.85, 1.15)
    # The gain map scales each channel by cast / max(cast) <= 1; the curve gives back max(cast).
    levels = np.arange(256, dtype=np.float64) / 255.0
    lut = np.clip(255.0 * gain * (cast.max() * levels) ** gamma, 0, 255).astype(np.uint8)
    px = width / 960.0
    blur = rng.uniform(*domain.blur_sigma) * px
    noise_std = rng.uniform(*domain.noise_std)
    noise = None
    if noise_std > 0.05:
        # A 256 px tile repeated over the frame (plus a margin for the per-frame offsets): sensor
        # noise has no structure at that scale, and the tile is cheap to draw per sequence.
        tile = np.round(rng.standard_normal((256, 256, 3), dtype=np.float32) * noise_std)
        parts = np.stack([np.clip(tile, 0, 255), np.clip(-tile, 0, 255)]).astype(np.uint8)
        reps = (1, -(-(height + 32) // 256), -(-(width + 32) // 256), 1)
        noise = np.ascontiguousarray(np.tile(parts, reps)[:, : height + 32, : width + 32])
    quality = round(float(rng.uniform(*domain.jpeg_quality)))
    streak = rng.uniform(*domain.motion_blur_px) * px
    angle = rng.normal(0.0, 0.35)  # mostly horizontal (turning, passing), some vertical (pitching)
    motion = (float(streak * abs(np.cos(angle))), float(streak * abs(np.sin(angle))))
    gain_map = _gain_map(rng.uniform(*domain.vignetting), cast, width, height)
    aberration = float(rng.uniform(*domain.chromatic_aberration_px) * px)
    return Effects(gain_map, lut, float(blur), noise, quality, motion, aberration)
