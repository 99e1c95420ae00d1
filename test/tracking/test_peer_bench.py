"""The peer benchmark: timing and TrackEval of each tracker on one stream, and the verdict computed from
the figures (no timing assertion: only that the times are measured and the verdict follows them)."""

from __future__ import annotations

from crowd_perception.eval.tracking import TrackingReport
from crowd_perception.tracking.ablation import GroundTruthFrame, GroundTruthSequence
from crowd_perception.tracking.bench import TimingResult
from crowd_perception.tracking.config import get_profile
from crowd_perception.tracking.peer_bench import OURS, peer_reports, peer_times, render
from crowd_perception.tracking.peers import PEERS, unavailable
from crowd_perception.tracking.simulation import simulate_crowd

INSTALLED = [name for name in PEERS if unavailable(name) is None]


def _timing(people: int, median: float, p99: float) -> TimingResult:
    return TimingResult(people, 10, float(people), median, p99, median, p99)


def _report(hota: float) -> TrackingReport:
    return TrackingReport("gt", "pred", "MOT17", combined={"HOTA": hota, "IDF1": 50.0, "MOTA": 40.0, "IDSW": 3})


def test_peer_times_measures_every_tracker_and_size():
    names = [OURS, *INSTALLED[:1]]
    times = peer_times(names, get_profile("default"), [5, 20], frames=6, warmup=2, repeats=2)
    assert set(times) == {(name, n) for name in names for n in (5, 20)}
    for (_, n), r in times.items():
        assert r.people == n and r.frames == 6 and r.mean_detections > 0.5 * n
        assert 0 < r.cpu_median_ms <= r.cpu_p99_ms


def test_peer_reports_score_every_tracker_on_the_same_sequences():
    frames = tuple(
        GroundTruthFrame(f.stamp_ns, f.boxes, f.ids, f.visible_fractions) for f in simulate_crowd(6, 40, seed=3)
    )
    sequences = [GroundTruthSequence("sim", 30.0, 1920, 1080, frames)]
    names = [OURS, *INSTALLED]
    reports = peer_reports(names, get_profile("default"), sequences)
    assert list(reports) == names
    for report in reports.values():
        assert 0 < report.combined["HOTA"] <= 100 and report.combined["IDSW"] >= 0
        assert report.combined["GT_IDs"] == 6


def test_verdict_names_the_peer_that_is_as_fast_and_the_one_with_higher_hota():
    names = [OURS, "a", "b"]
    times = {
        (OURS, 10): _timing(10, 1.0, 2.0),
        ("a", 10): _timing(10, 3.0, 4.0),
        ("b", 10): _timing(10, 0.5, 4.0),
        (OURS, 50): _timing(50, 2.0, 3.0),
        ("a", 50): _timing(50, 4.0, 6.0),
        ("b", 50): _timing(50, 8.0, 9.0),
    }
    tables, verdict = render(names, times, {OURS: _report(60.0), "a": _report(61.5), "b": _report(60.0)}, [10, 50])
    assert "| 10 | 10.000 | b | 0.500 | 4.000 | 0.500 | 2.000 |" in tables
    assert "| 50 | 50.000 | a | 4.000 | 6.000 | 2.000 | 2.000 |" in tables
    assert "| a | 61.500 | 50.000 | 40.000 | 3 |" in tables
    assert "no, not faster than b at 10 people (0.50x)" in verdict
    assert "no, higher: a (61.500)" in verdict and "b (60.000)" not in verdict


def test_verdict_yes_when_ours_is_fastest_and_best():
    times = {(OURS, 10): _timing(10, 1.0, 2.0), ("a", 10): _timing(10, 1.5, 1.0)}
    _, verdict = render([OURS, "a"], times, {OURS: _report(60.0), "a": _report(60.0)}, [10])
    assert verdict.startswith("Faster than every peer at every size (median CPU time): yes.")
    assert "HOTA at least every peer's (60.000): yes" in verdict and verdict.endswith("(peers run: a).")
