"""What a generated split contains: people per frame, their sizes and distances, visibility and
the share of joints in every state, so that results on synthetic data can be read in context."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

import numpy as np

from ..core.types import JointState
from ..utils.results import markdown_table
from .config import SynthConfig
from .generator import generate

__all__ = ["SplitStatistics", "split_statistics", "statistics_markdown"]

_STATES = (JointState.VISIBLE, JointState.OCCLUDED_BY_PERSON, JointState.OCCLUDED_BY_OBJECT,
           JointState.SELF_OCCLUDED, JointState.OUTSIDE_IMAGE)


@dataclass(frozen=True)
class SplitStatistics:
    name: str
    frames: int
    people_per_frame: tuple[float, float, float]  # mean, min, max
    height_px: tuple[float, float, float]  # 10th, 50th, 90th percentile of full-box heights
    distance_m: tuple[float, float, float]  # 10th, 50th, 90th percentile
    visible_fraction: tuple[float, float]  # mean, share of people less than half visible
    state_shares: dict[str, float]


def split_statistics(config: SynthConfig, seed: int = 0, max_frames: int | None = None) -> SplitStatistics:
    """Generate (up to ``max_frames`` frames of) ``config`` and summarise its ground truth."""
    counts: list[int] = []
    heights_per_frame: list[np.ndarray] = []
    distances_per_frame: list[np.ndarray] = []
    visible_per_frame: list[np.ndarray] = []
    states = np.zeros(len(JointState), np.int64)
    for sample in islice(generate(config, seed), max_frames):
        persons = sample.annotation.persons
        counts.append(len(persons))
        heights_per_frame.append(persons.boxes[:, 3] - persons.boxes[:, 1])
        distances_per_frame.append(persons.distances)
        visible_per_frame.append(persons.visible_fractions)
        states += np.bincount(persons.keypoint_states.ravel(), minlength=len(JointState))
    if not counts:
        raise ValueError(f"{config.name}: no frames generated")
    heights, distances, visible = (
        np.concatenate(v) if v else np.zeros(0) for v in (heights_per_frame, distances_per_frame, visible_per_frame)
    )

    def pct(values: np.ndarray) -> tuple[float, float, float]:
        if not len(values):
            return np.nan, np.nan, np.nan
        p10, p50, p90 = (float(v) for v in np.percentile(values, [10, 50, 90]))
        return p10, p50, p90

    total = max(int(states.sum()), 1)
    return SplitStatistics(
        name=config.name,
        frames=len(counts),
        people_per_frame=(float(np.mean(counts)), float(np.min(counts)), float(np.max(counts))),
        height_px=pct(heights),
        distance_m=pct(distances),
        visible_fraction=(float(visible.mean()) if len(visible) else np.nan,
                          float((visible < 0.5).mean()) if len(visible) else np.nan),
        state_shares={s.name.lower(): float(states[s] / total) for s in _STATES},
    )


def statistics_markdown(rows: list[SplitStatistics]) -> str:
    people = markdown_table(
        ["split", "frames", "people/frame (mean, min, max)", "box height px (p10, p50, p90)",
         "distance m (p10, p50, p90)", "mean visible fraction", "people < 50 % visible"],
        [[r.name, r.frames, "{:.1f}, {:.0f}, {:.0f}".format(*r.people_per_frame),
          "{:.0f}, {:.0f}, {:.0f}".format(*r.height_px), "{:.1f}, {:.1f}, {:.1f}".format(*r.distance_m),
          r.visible_fraction[0], r.visible_fraction[1]] for r in rows],
    )
    states = markdown_table(["split", *[s.name.lower() for s in _STATES]],
                            [[r.name, *[r.state_shares[s.name.lower()] for s in _STATES]] for r in rows])
    return ("Ground truth of the synthetic splits (people included in the labels: every person whose "
            "projected body overlaps the image).\n\n" + people + "\n\nShare of joints per state:\n\n" + states)
