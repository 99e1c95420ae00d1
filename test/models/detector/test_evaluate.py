"""Evaluation driver: density groups from sequence names, per-group metrics, markdown, CLI wiring."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.cli import build_parser
from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations
from crowd_perception.core.types import Detections
from crowd_perception.models.detector.evaluate import density_of, load_eval_frames, render_markdown, run_evaluation


def _ann(seq: str) -> FrameAnnotation:
    persons = PersonAnnotations("body22", np.array([[10, 10, 30, 70]]), ids=np.array([1]), visible_fractions=[1.0])
    return FrameAnnotation("x", 100, 100, persons, sequence=seq)


def test_density_from_sequence_names() -> None:
    assert density_of(_ann("bench_very_dense_001")) == "very_dense"
    assert density_of(_ann("bench_sparse_000")) == "sparse"
    assert density_of(_ann("")) == "all"


class _Oracle:
    """Detects the ground truth of the frame it is given (looked up by image identity)."""

    def __init__(self, frames) -> None:
        self.by_id = {id(image): ann for image, ann in frames}

    def detect(self, image) -> Detections:
        return Detections(self.by_id[id(image)].persons.boxes, np.ones(1))


def test_run_evaluation_groups_and_markdown() -> None:
    frames = [(np.zeros((100, 100, 3), np.uint8), _ann(s)) for s in ("bench_sparse_000", "bench_dense_000")]
    report = run_evaluation(_Oracle(frames), frames, ["all", "reasonable"])
    assert {g for g, _ in report.metrics} == {"overall", "sparse", "dense"}
    assert all(m.recall == 1.0 for m in report.metrics.values())
    report.latency = {"median_ms": 10.0, "p90_ms": 12.0, "fps": 100.0}
    text = render_markdown(report)
    assert "| overall | all | 2 |" in text and "100.0 FPS" in text


def test_operating_point_table() -> None:
    frames = [(np.zeros((100, 100, 3), np.uint8), _ann("bench_sparse_000"))]
    report = run_evaluation(_Oracle(frames), frames, ["all"])
    report.operating_points = (0.5, 2.0)
    text = render_markdown(report)
    assert "Operating points (overall, all)" in text
    assert "| 0.500 | 1.000 | 0.000 | 1.000 |" in text and "| 2.000 | 0.000 | 0.000 | 0.000 |" in text


def test_bad_spec() -> None:
    with pytest.raises(ValueError, match="source:where"):
        load_eval_frames("bench")


def test_cli_commands_registered() -> None:
    parser = build_parser()
    args = parser.parse_args(["train", "detector", "--preset", "tiny", "--set", "train.steps=1"])
    assert args.preset == "tiny" and args.overrides == ["train.steps=1"]
    args = parser.parse_args(["evaluate", "detection", "--data", "synth:bench", "--latency", "5"])
    assert args.latency == 5
    assert parser.parse_args(["ablation", "detector", "--steps", "10"]).steps == 10
    args = parser.parse_args(["evaluate", "detection", "--compare", "hog", "--compare", "old.onnx", "--section", "s"])
    assert args.compare == ["hog", "old.onnx"] and args.section == "s"
    assert parser.parse_args(["evaluate", "detection-latency", "--threads", "1"]).threads == "1"
