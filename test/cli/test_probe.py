"""The hardening probe classifies what a faulty input does (the full run is `crowd-perception
hardening-probe`; here the cases that need no model)."""

from __future__ import annotations

import pytest

from crowd_perception.cli import probe


@pytest.mark.parametrize("case", ["NaN box inside a frame", "gap longer than track_buffer_s", "stamps jump backwards"])
def test_tracker_cases_are_handled(case):
    assert probe._tracker_case(case).outcome == "handled"


def test_parameter_cases_are_clean_errors_or_applied(tmp_path):
    checker = probe._Probe(tmp_path, None)
    probe._bag(tmp_path / "good_bag", n=2)
    out = checker.params("score_threshold: .nan", "/**/detector_node:\n  ros__parameters:\n    score_threshold: .nan\n")
    assert out.outcome == "clean error" and "not a finite number" in out.detail
    applied = checker.params_applied("fq", "/crowd_perception/detector_node:\n  ros__parameters:\n"
                                           "    score_threshold: 0.37\n")
    assert applied.outcome == "handled"
    ignored = checker.params_applied("other ns", "/elsewhere/detector_node:\n  ros__parameters:\n"
                                                 "    score_threshold: 0.37\n")
    assert ignored.outcome == "silently wrong"  # the probe notices when a value does not arrive


def test_error_classification():
    assert probe._error_outcome(1, "error: bad bag\n") == ("clean error", "bad bag")
    assert probe._error_outcome(1, "Traceback (most recent call last):\nKeyError: 'x'\n")[0] == "crash"
    assert probe._error_outcome(0, "")[0] == "silently wrong"


def test_results_table_counts_by_fault_class():
    results = [probe.Outcome("bag", "a", "clean error"), probe.Outcome("frame", "b", "skipped and counted", 6, 6),
               probe.Outcome("frame", "c", "crash", 6, 4)]
    text = probe.results_markdown(results)
    assert "3 fault cases, frames lost in replay cases: 2" in text
    assert "| **all** | 3 | 1 | 1 | 0 | 1 | 0 |" in text


@pytest.mark.parametrize("case", ["sync", "flood", "engine cache"])
def test_tracker_and_engine_cache_cases_are_handled(case, tmp_path):
    from crowd_perception.cli import probe_models

    run = {"sync": probe._sync_case, "flood": probe_models.tracker_flood_case,
           "engine cache": lambda: probe_models.engine_cache_case(tmp_path)}[case]
    assert run().outcome == "handled"


def test_a_malformed_model_metadata_is_a_clean_error(tmp_path):
    from crowd_perception.cli import probe_models

    probe._bag(tmp_path / "good_bag", n=2)
    out = probe_models.model_file_case(tmp_path / "model", tmp_path / "good_bag", "input_size as strings",
                                       probe_models.string_input_size)
    assert out.outcome == "clean error" and "input_size must be 2 positive integers" in out.detail
