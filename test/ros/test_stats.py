"""Stage statistics for the diagnostics."""

from __future__ import annotations

import math

import pytest

from crowd_perception.ros.stats import StageStats


def test_rates_latency_and_window():
    stats = StageStats(window=3)
    for i in range(5):
        now = i * 50_000_000
        stats.on_receive(now)
        stats.on_publish(now + 10_000_000, now - 20_000_000, 5_000_000)
    summary = stats.summary()
    assert summary["received"] == 5 and summary["published"] == 5
    assert summary["input_rate_hz"] == pytest.approx(20.0)
    assert summary["latency_ms"] == pytest.approx(30.0) and summary["processing_ms"] == pytest.approx(5.0)


def test_empty_stats():
    summary = StageStats().summary()
    assert summary["input_rate_hz"] == 0.0 and math.isnan(summary["latency_ms"])
