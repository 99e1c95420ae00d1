"""Throughput measurement (tiny sizes; timings are reported, never asserted)."""

from __future__ import annotations

from crowd_perception.synth.bench import measure_throughput, results_markdown
from crowd_perception.synth.presets import BENCH_DENSITIES, get_preset


def test_measure_throughput_covers_every_density():
    rows = measure_throughput(frames=1, width=160, height=90)
    assert [r.group for r in rows] == list(BENCH_DENSITIES)
    sequences = {group.name: group.count for group in get_preset("bench").sequences}
    assert all(r.frames == sequences[r.group] and r.seconds > 0 and r.width == 160 for r in rows)  # every sequence
    # Denser groups put more people in the frame.
    people = [r.mean_people for r in rows]
    assert people[0] < people[-1]
    assert all(r.cpu_seconds > 0 for r in rows)
    text = results_markdown(rows, "test", "load")
    assert "frames/s" in text and "very_dense" in text
