"""Split statistics."""

from __future__ import annotations

import pytest

from crowd_perception.synth.stats import split_statistics, statistics_markdown

from .conftest import tiny_config


def test_statistics_summarise_the_ground_truth():
    stats = split_statistics(tiny_config(frames=2, count=1), seed=0)
    assert stats.frames == 2 and stats.people_per_frame[0] > 0
    assert sum(stats.state_shares.values()) == pytest.approx(1.0)
    assert stats.height_px[0] <= stats.height_px[1] <= stats.height_px[2]
    assert 0.0 <= stats.visible_fraction[0] <= 1.0
    limited = split_statistics(tiny_config(frames=5, count=1), seed=0, max_frames=3)
    assert limited.frames == 3
    text = statistics_markdown([stats, limited])
    assert "occluded_by_person" in text and "tiny" in text
