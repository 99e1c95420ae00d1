"""A cheap simulated crowd (boxes only, no images) for tests and the tracker's speed benchmark.

People are boxes with constant velocity plus a small random acceleration, bouncing off the image
borders; optionally they leave and are replaced by new identities (churn), which is what makes a
long stream exercise track creation and removal. Visibility is ``1 - max IoA`` of the boxes in
front (a larger bottom edge is closer to the camera). This is not the synthetic engine: it renders
nothing and exists so that tracking can be timed and tested without images.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..core.boxes import box_ioa

__all__ = ["SimulatedFrame", "simulate_crowd", "visible_fractions"]


@dataclass(frozen=True)
class SimulatedFrame:
    """Ground truth of one simulated frame: ``xyxy`` boxes, identities, visible fractions, stamp."""

    boxes: np.ndarray
    ids: np.ndarray
    visible_fractions: np.ndarray
    stamp_ns: int
    width: int
    height: int


def visible_fractions(boxes: np.ndarray) -> np.ndarray:
    """``1 - `` the largest fraction of each box covered by one box closer to the camera."""
    if len(boxes) == 0:
        return np.zeros(0)
    ioa = box_ioa(boxes, boxes)
    closer = boxes[None, :, 3] > boxes[:, None, 3]
    visible: np.ndarray = 1.0 - np.where(closer, ioa, 0.0).max(axis=1)
    return visible


def simulate_crowd(
    num_people: int,
    num_frames: int,
    *,
    seed: int = 0,
    width: int = 1920,
    height: int = 1080,
    frame_rate: float = 30.0,
    speed_px_s: float = 60.0,
    mean_lifetime_s: float | None = None,
    occlusion: bool = True,
) -> Iterator[SimulatedFrame]:
    """Yield ``num_frames`` frames of ``num_people`` simultaneous people (seeded)."""
    rng = np.random.default_rng(seed)
    dt = 1.0 / frame_rate

    def spawn(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h = rng.uniform(0.08, 0.3, n) * height
        centre = np.stack([rng.uniform(0, width, n), rng.uniform(0.3 * height, height - h / 2)], axis=1)
        return centre, h, rng.normal(0.0, speed_px_s, (n, 2)) * [1.0, 0.3]

    centre, h, vel = spawn(num_people)
    ids = np.arange(1, num_people + 1)
    next_id = num_people + 1
    for frame in range(num_frames):
        if mean_lifetime_s is not None:
            leave = rng.random(num_people) < dt / mean_lifetime_s
            n = int(leave.sum())
            if n:
                centre[leave], h[leave], vel[leave] = spawn(n)
                ids = ids.copy()
                ids[leave] = np.arange(next_id, next_id + n)
                next_id += n
        vel = vel + rng.normal(0.0, 0.2 * speed_px_s * np.sqrt(dt), vel.shape)
        centre = centre + vel * dt
        bounce = (centre < 0) | (centre > [width, height])
        vel = np.where(bounce, -vel, vel)
        centre = np.clip(centre, 0, [width, height])
        w = 0.4 * h
        boxes = np.stack([centre[:, 0] - w / 2, centre[:, 1] - h / 2, centre[:, 0] + w / 2, centre[:, 1] + h / 2], 1)
        vis = visible_fractions(boxes) if occlusion else np.ones(num_people)
        yield SimulatedFrame(boxes, ids.copy(), vis, round(frame * dt * 1e9), width, height)
