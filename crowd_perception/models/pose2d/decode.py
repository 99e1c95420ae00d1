"""Heatmap decoding (numpy): arg-max, then sub-pixel refinement.

* ``dark`` – DARK (Zhang et al., CVPR 2020): smooth the heatmap with the training Gaussian, take
  its logarithm and move the arg-max by one Newton step ``-H^-1 g`` of the second-order Taylor
  expansion (exact for a Gaussian peak);
* ``quarter`` – the classic quarter-pixel shift towards the higher neighbour (Newell et al.);
* ``none`` – the integer arg-max.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["REFINEMENTS", "argmax_2d", "decode_heatmaps"]

REFINEMENTS = ("dark", "quarter", "none")


def argmax_2d(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer ``(..., 2)`` (x, y) locations and ``(...)`` values of each ``(..., h, w)`` map's maximum."""
    h, w = heatmaps.shape[-2:]
    flat = heatmaps.reshape(*heatmaps.shape[:-2], h * w)
    index = flat.argmax(axis=-1)
    values = np.take_along_axis(flat, index[..., None], axis=-1)[..., 0]
    return np.stack([index % w, index // w], axis=-1), values


def _quarter_offsets(heatmaps: np.ndarray, loc: np.ndarray) -> np.ndarray:
    h, w = heatmaps.shape[-2:]
    x, y = loc[..., 0], loc[..., 1]

    def at(dx: int, dy: int) -> np.ndarray:
        xx, yy = np.clip(x + dx, 0, w - 1), np.clip(y + dy, 0, h - 1)
        return np.take_along_axis(heatmaps.reshape(*heatmaps.shape[:-2], -1), (yy * w + xx)[..., None], -1)[..., 0]

    offset = np.stack([np.sign(at(1, 0) - at(-1, 0)), np.sign(at(0, 1) - at(0, -1))], axis=-1) * 0.25
    inner = np.stack([(x > 0) & (x < w - 1), (y > 0) & (y < h - 1)], axis=-1)
    return np.where(inner, offset, 0.0)


_CV_MAX_CHANNELS = 128  # OpenCV 5 filters take at most this many channels per call (CV_CN_MAX)


def _smooth(maps: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of ``(M, h, w)`` float32 maps (zero border), all maps per OpenCV call, not one by one."""
    kernel = int(2 * round(3 * sigma) + 1) if sigma > 0 else 1
    if kernel == 1 or len(maps) == 0:
        return maps
    parts = [
        cv2.GaussianBlur(
            np.ascontiguousarray(maps[i : i + _CV_MAX_CHANNELS].transpose(1, 2, 0)), (kernel, kernel), sigma, borderType=cv2.BORDER_CONSTANT
        )
        for i in range(0, len(maps), _CV_MAX_CHANNELS)
    ]
    return np.concatenate([p.reshape(*p.shape[:2], -1) for p in parts], axis=-1).transpose(2, 0, 1)


def _dark_offsets(heatmaps: np.ndarray, loc: np.ndarray, sigma: float) -> np.ndarray:
    h, w = heatmaps.shape[-2:]
    lead = heatmaps.shape[:-2]
    maps = heatmaps.reshape(-1, h, w).astype(np.float32)
    smoothed = _smooth(maps, sigma)
    # Keep each map's peak height (DARK's modulation) so the log is well scaled.
    peak = maps.max(axis=(1, 2))
    ratio = np.where(peak > 0, peak / np.maximum(smoothed.max(axis=(1, 2)), 1e-12), 1.0)
    smoothed = smoothed * ratio[:, None, None].astype(np.float32)
    x, y = loc.reshape(-1, 2)[:, 0], loc.reshape(-1, 2)[:, 1]
    n = np.arange(len(smoothed))

    def at(dx: int, dy: int) -> np.ndarray:
        """log of the smoothed map at ``(x + dx, y + dy)``, edge-replicated (only 9 values per map are needed)."""
        value = smoothed[n, np.clip(y + dy, 0, h - 1), np.clip(x + dx, 0, w - 1)]
        return np.log(np.maximum(value.astype(np.float64), 1e-10))

    dx = 0.5 * (at(1, 0) - at(-1, 0))
    dy = 0.5 * (at(0, 1) - at(0, -1))
    dxx = at(1, 0) - 2 * at(0, 0) + at(-1, 0)
    dyy = at(0, 1) - 2 * at(0, 0) + at(0, -1)
    dxy = 0.25 * (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1))
    det = dxx * dyy - dxy**2
    ok = (np.abs(det) > 1e-12) & (dxx < 0) & (dyy < 0)
    safe = np.where(ok, det, 1.0)
    ox = -(dyy * dx - dxy * dy) / safe
    oy = -(dxx * dy - dxy * dx) / safe
    offsets = np.where(ok[:, None], np.stack([ox, oy], axis=-1), 0.0)
    inner = np.stack([(x > 0) & (x < w - 1), (y > 0) & (y < h - 1)], axis=-1)
    offsets = np.clip(np.where(inner, offsets, 0.0), -0.5, 0.5)  # a Newton step never leaves the pixel
    return offsets.reshape(*lead, 2)


def decode_heatmaps(heatmaps: np.ndarray, refine: str = "dark", sigma: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel ``(..., K, 2)`` heatmap-pixel locations and ``(..., K)`` peak values of ``(..., K, h, w)`` maps.

    ``sigma`` is the Gaussian the heatmaps were trained with (used by ``dark``).
    """
    if refine not in REFINEMENTS:
        raise ValueError(f"unknown refinement {refine!r}; choose from {REFINEMENTS}")
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    if heatmaps.ndim < 3:
        raise ValueError(f"expected (..., K, h, w) heatmaps, got shape {heatmaps.shape}")
    loc, values = argmax_2d(heatmaps)
    if refine == "dark":
        offsets = _dark_offsets(heatmaps, loc, sigma)
    elif refine == "quarter":
        offsets = _quarter_offsets(heatmaps, loc)
    else:
        offsets = np.zeros(loc.shape)
    return loc.astype(np.float64) + offsets, values
