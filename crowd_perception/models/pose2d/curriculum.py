"""Curriculum "mask and predict": hide a growing fraction of a visible person's body parts.

During training, each crop of the target person gets a random subset of its body parts (the
skeleton's limbs whose two ends are visible) painted over with an occluder - a patch of texture
cut from elsewhere in the crop or a noisy solid colour - while its true keypoints stay the targets.
The covered joints become ``OCCLUDED`` (occlusion head target) and the covered pixels leave the
instance mask. The fraction of hidden parts grows from 0 to ``max_fraction`` (70 %) over training;
:func:`occlude_parts` with a fixed fraction also builds the evaluation's occlusion table.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ...core.skeletons import get_skeleton
from ...core.types import JointState

__all__ = ["Curriculum", "occlude_parts"]


@dataclass
class Curriculum:
    """Fraction schedule: the maximum fraction ramps linearly from 0 to ``max_fraction`` by ``ramp`` of training;
    each sample draws its own fraction uniformly in ``[0, maximum]``."""

    max_fraction: float = 0.7
    ramp: float = 0.8
    enabled: bool = True

    def level(self, progress: float) -> float:
        if not self.enabled:
            return 0.0
        return self.max_fraction * min(max(progress, 0.0) / max(self.ramp, 1e-9), 1.0)

    def sample_fraction(self, progress: float, rng: np.random.Generator) -> float:
        return float(rng.uniform(0.0, self.level(progress)))


def occlude_parts(
    crop: np.ndarray,
    keypoints: np.ndarray,
    states: np.ndarray,
    skeleton: str,
    fraction: float,
    rng: np.random.Generator,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    """Paint over ``round(fraction * P)`` of the ``P`` visible body parts of the person in ``crop``.

    ``keypoints (K, 2)`` are crop pixels and ``states (K,)`` ``JointState``; returns new copies
    ``(crop, states, mask, parts_hidden)``. The stroke width follows the person's size.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    states = np.array(states, copy=True)
    keypoints = np.asarray(keypoints, dtype=np.float64)
    visible = (states == JointState.VISIBLE) & np.isfinite(keypoints).all(axis=1)
    parts = [(a, b) for a, b in get_skeleton(skeleton).limbs if visible[a] and visible[b]]
    count = round(fraction * len(parts))
    if count == 0:
        return crop, states, mask, 0
    crop = crop.copy()
    mask = None if mask is None else mask.copy()
    h, w = crop.shape[:2]
    extent = keypoints[visible].max(axis=0) - keypoints[visible].min(axis=0)
    thickness = max(3, round(0.15 * float(max(extent.max(), 8.0))))
    cover = np.zeros((h, w), dtype=np.uint8)
    for i in rng.choice(len(parts), size=count, replace=False):
        a, b = parts[i]
        pa, pb = np.round(keypoints[a]).astype(int), np.round(keypoints[b]).astype(int)
        cv2.line(cover, tuple(pa.tolist()), tuple(pb.tolist()), 1, thickness)
    covered = cover.astype(bool)
    if rng.random() < 0.5:  # texture patch from a random shift of the crop itself
        dy, dx = rng.integers(-h // 2, h // 2 + 1), rng.integers(-w // 2, w // 2 + 1)
        filler = np.roll(crop, (int(dy), int(dx)), axis=(0, 1))
    else:  # noisy solid colour
        colour = rng.integers(0, 256, size=3)
        filler = np.clip(colour + rng.normal(0, 12, size=crop.shape), 0, 255).astype(crop.dtype)
    crop[covered] = filler[covered]
    if mask is not None:
        mask[covered] = 0
    finite = np.nan_to_num(keypoints, nan=-1.0)
    px = np.clip(np.round(finite[:, 0]), 0, w - 1).astype(int)
    py = np.clip(np.round(finite[:, 1]), 0, h - 1).astype(int)
    inside = visible & (keypoints[:, 0] >= 0) & (keypoints[:, 0] <= w - 1) & (keypoints[:, 1] >= 0) & (keypoints[:, 1] <= h - 1)
    hidden = inside & covered[py, px]
    states[hidden] = JointState.OCCLUDED
    return crop, states, mask, count
