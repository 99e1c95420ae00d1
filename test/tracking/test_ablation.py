"""The association-only ablation: conditions, per-rate configs and a small end-to-end run."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.tracking.ablation import (
    GroundTruthFrame,
    GroundTruthSequence,
    apply_condition,
    for_frame_rate,
    run_ablation,
)
from crowd_perception.tracking.config import get_profile
from crowd_perception.tracking.simulation import simulate_crowd


def _sequence(people: int, frames: int, seed: int) -> GroundTruthSequence:
    items = tuple(
        GroundTruthFrame(f.stamp_ns, f.boxes, f.ids, f.visible_fractions)
        for f in simulate_crowd(people, frames, seed=seed)
    )
    return GroundTruthSequence(f"sim{seed}", 30.0, 1920, 1080, items)


def test_dropped_condition_keeps_the_first_frame_and_drops_about_a_quarter():
    seq = _sequence(3, 400, 0)
    dropped = apply_condition(seq, "dropped", seed=1)
    assert dropped.frames[0] is seq.frames[0]
    assert 0.2 < 1 - len(dropped.frames) / 400 < 0.3


def test_pan_condition_homographies_chain_the_warped_boxes():
    seq = _sequence(3, 20, 0)
    pan = apply_condition(seq, "pan", seed=0)
    assert pan.frames[0].homography is None
    np.testing.assert_allclose(pan.frames[0].boxes, seq.frames[0].boxes)  # the pan starts at rest
    chained = np.eye(3)
    for original, seen in zip(seq.frames[1:], pan.frames[1:], strict=True):
        chained = seen.homography @ chained  # frame 0 image -> this image
        corners = np.c_[original.boxes.reshape(-1, 2), np.ones(2 * len(original.boxes))] @ chained.T
        np.testing.assert_allclose(seen.boxes, (corners[:, :2] / corners[:, 2:]).reshape(-1, 4), atol=1e-6)
    assert not np.allclose(chained, np.eye(3))
    with pytest.raises(ValueError, match="unknown condition"):
        apply_condition(seq, "rain", seed=0)


def test_frame_counting_configs_follow_the_sequence_rate():
    jde = for_frame_rate(get_profile("jde"), 10.0)
    assert (jde.frame_rate, jde.track_buffer_frames) == (10.0, 10)
    assert for_frame_rate(get_profile("default"), 10.0) == get_profile("default")


def test_small_ablation_end_to_end():
    sequences = [_sequence(8, 60, 0), _sequence(15, 60, 1)]
    variants = {"jde": get_profile("jde"), "default": get_profile("default")}
    reports = run_ablation(sequences, variants, conditions=("nominal", "pan"))
    assert set(reports) == {("jde", "nominal"), ("jde", "pan"), ("default", "nominal"), ("default", "pan")}
    for report in reports.values():
        assert 20 < report.combined["HOTA"] <= 100 and report.combined["GT_IDs"] > 0
    assert sorted(reports["jde", "nominal"].sequences) == ["sim0", "sim1"]
