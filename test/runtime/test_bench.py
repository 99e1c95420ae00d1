"""Stage timing split, summaries, memory probe and scaling boxes of the benchmark primitives."""

from __future__ import annotations

import types

import numpy as np
import pytest

from crowd_perception.runtime import bench
from crowd_perception.runtime.bench import (
    StageClock,
    StageSamples,
    instrument,
    measure,
    peak_rss_mib,
    reset_peak_rss,
    scaling_boxes,
)


class FakeTime:
    """A deterministic ``perf_counter`` that only moves when the fake workload says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def fake_time(monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr(bench, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))
    return clock


class SleepyBackend:
    name, input_names, output_names = "sleepy", ["x"], ["y"]

    def __init__(self, time: FakeTime | None = None) -> None:
        self.time = time

    def run(self, feeds):
        if self.time is not None:
            self.time.now += 0.004
        return {"y": feeds["x"] * 2}


class SleepyRunner:
    """pre 2 ms, two inference calls (4 ms each), post 3 ms (on the fake clock)."""

    def __init__(self, time: FakeTime | None = None) -> None:
        self.time = time or FakeTime()
        self.backend = SleepyBackend(self.time)

    def estimate(self, x):
        self.time.now += 0.002
        a = self.backend.run({"x": x})["y"]
        b = self.backend.run({"x": a})["y"]
        self.time.now += 0.003
        return b


def test_stage_split_attributes_time_to_the_right_stage(fake_time):
    runner = SleepyRunner(fake_time)
    clock = instrument(runner)
    assert runner.backend is clock and clock.name == "sleepy" and clock.output_names == ["y"]
    samples = measure([lambda: runner.estimate(np.ones(2))] * 4, clock, warmup=1)
    assert len(samples) == 3
    s = samples.summary()
    assert s["pre_median_ms"] == pytest.approx(2) and s["infer_median_ms"] == pytest.approx(8)
    assert s["post_median_ms"] == pytest.approx(3) and s["total_p99_ms"] == pytest.approx(13)
    assert s["throughput_per_s"] == pytest.approx(1 / 0.013)


def test_instrument_twice_does_not_nest_and_records_feeds():
    runner = SleepyRunner()
    instrument(runner)
    clock = instrument(runner, keep_feeds=True)
    assert isinstance(clock.backend, SleepyBackend)
    runner.estimate(np.arange(3))
    assert len(clock.feeds) == 2 and np.array_equal(clock.feeds[1]["x"], np.arange(3) * 2)
    with pytest.raises(TypeError):
        instrument(object())


def test_measure_without_clock_counts_everything_as_post():
    samples = measure([lambda: None] * 3, None, warmup=0)
    s = samples.summary()
    assert s["pre_median_ms"] == 0 and s["infer_median_ms"] == 0 and len(samples) == 3
    with pytest.raises(ValueError):
        StageSamples().summary()


def _resident_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        return next(int(line.split()[1]) / 1024.0 for line in f if line.startswith("VmRSS:"))


def test_peak_rss_grows_with_allocation():
    # Compare against the current resident set, not the previous peak: where the kernel refuses
    # ``clear_refs`` (some CI containers) the peak keeps an older, higher high-water mark.
    reset_peak_rss()
    resident = _resident_mib()
    block = np.ones(64 << 20, np.uint8)  # 64 MiB touched
    assert peak_rss_mib() >= resident + 32 and block[-1] == 1


def test_reset_peak_rss_drops_to_resident_where_supported():
    block = np.ones(64 << 20, np.uint8)
    del block
    if not reset_peak_rss():
        pytest.skip("this kernel/container refuses writes to /proc/self/clear_refs")
    assert peak_rss_mib() < _resident_mib() + 32


def test_scaling_boxes_inside_image():
    boxes = scaling_boxes(80, 640, 480, np.random.default_rng(0))
    assert boxes.shape == (80, 4)
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 2] <= 640).all() and (boxes[:, 3] <= 480).all()
    assert ((boxes[:, 2] - boxes[:, 0]) < (boxes[:, 3] - boxes[:, 1])).all()


def test_stage_clock_passes_outputs_through():
    clock = StageClock(SleepyBackend())
    assert np.array_equal(clock.run({"x": np.ones(1)})["y"], [2.0]) and len(clock.calls) == 1
