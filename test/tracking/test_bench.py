"""Speed and memory measurements run and report sensible values (no timing assertions)."""

from __future__ import annotations

from crowd_perception.tracking.bench import association_times, memory_profile
from crowd_perception.tracking.config import get_profile


def test_association_times_runs():
    result = association_times(get_profile("default"), 10, frames=5, warmup=2)
    assert result.frames == 5 and result.mean_detections > 5
    assert 0 < result.cpu_median_ms <= result.cpu_p99_ms and 0 < result.wall_median_ms <= result.wall_p99_ms


def test_removed_list_grows_only_without_bounded_memory():
    jde = memory_profile(get_profile("jde"), frames=600, samples=2, embedding_dim=8)
    bounded = memory_profile(get_profile("default"), frames=600, samples=2, embedding_dim=8)
    assert [s.frame for s in jde] == [300, 600]
    assert jde[-1].removed_ids > jde[0].removed_ids > 0  # JDE keeps every removed track's id
    assert jde[-1].tracker_bytes > jde[0].tracker_bytes
    assert all(s.removed_ids == 0 for s in bounded)
    assert all(s.tracker_bytes > 0 and s.live_tracks > 0 for s in bounded)
