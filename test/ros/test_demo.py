"""The demo end to end on a few synthetic frames, with small fake models (the shipped ones are
exercised by the README command), and the replay / evaluate / demo command line."""

from __future__ import annotations

import json

import cv2
import pytest

from crowd_perception.cli import build_parser, main
from crowd_perception.ros.demo import run_demo

from .nodes_fakes import FakeDetector, FakePose3DEstimator, FakePoseEstimator


def _fakes():
    return {"detector": FakeDetector(), "pose2d": FakePoseEstimator("body22"), "pose3d": FakePose3DEstimator()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return run_demo(out, max_frames=3, runners=_fakes())


def test_demo_writes_bag_metrics_video_and_summary(demo):
    assert demo.replay.frames == demo.replay.processed == 3
    summary = json.loads(demo.summary.read_text())
    assert summary["frames"] == 3 and summary["end_to_end_fps"] > 0
    assert set(summary["stage_ms_per_frame"]) == {"detector", "pose2d", "pose3d", "tracker"}
    assert summary["metrics"]["detection"]["num_gt"] > 0
    video = cv2.VideoCapture(str(demo.video))
    assert video.get(cv2.CAP_PROP_FRAME_COUNT) == 3 and video.get(cv2.CAP_PROP_FRAME_WIDTH) == 480
    assert (demo.summary.parent / "report" / "metrics.json").is_file()


def test_results_markdown(demo):
    from crowd_perception.ros.demo import results_markdown

    text = results_markdown(demo)
    assert "3 frames, 3 processed, 0 failed" in text and "| tracker |" in text and "MR^-2" in text


def test_demo_refuses_to_overwrite_unless_asked(demo, tmp_path):
    with pytest.raises(FileExistsError, match="choose an empty"):
        run_demo(demo.summary.parent, max_frames=1, runners=_fakes())
    out = tmp_path / "again"
    run_demo(out, max_frames=1, runners=_fakes())
    (out / "mine.txt").write_text("not the demo's")
    second = run_demo(out, max_frames=2, runners=_fakes(), overwrite=True)
    assert second.replay.frames == 2 and (out / "mine.txt").is_file()


def test_cli_evaluate_prints_the_table(demo, capsys, tmp_path):
    assert main(["evaluate", "--bag", str(demo.output_bag), "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "3 frames with ground truth" in out and "MR^-2" in out and (tmp_path / "r" / "metrics.txt").is_file()


def test_evaluate_is_both_a_command_and_a_group():
    parser = build_parser()
    args = parser.parse_args(["evaluate", "--bag", "x"])
    assert args.bag.name == "x" and args._run.__name__ == "_run_evaluate"
    with pytest.raises(SystemExit, match="--bag is required"):
        args._run(parser.parse_args(["evaluate"]))


def test_cli_replay_with_a_missing_model_fails_clearly(demo, tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text(f"/**/detector_node:\n  ros__parameters:\n    model_path: {tmp_path / 'none.onnx'}\n")
    assert main(["replay", "--bag", str(demo.input_bag), "--out", str(tmp_path / "o"), "--stages", "detector",
                 "--config", str(params)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: detector model not found") and err.count("\n") == 1


def test_cli_demo_results_go_to_the_named_section(demo, monkeypatch, tmp_path, capsys):
    from crowd_perception.ros import demo as demo_module
    from crowd_perception.utils import results

    written = {}
    monkeypatch.setattr(demo_module, "run_demo", lambda *args, **kwargs: demo)
    monkeypatch.setattr(results, "update_results_section", lambda name, title, body: written.update(name=name, title=title))
    params = tmp_path / "candidate.yaml"
    assert main(["demo", "--out", str(tmp_path / "d"), "--config", str(params), "--results", "--section", "demo-candidate"]) == 0
    assert written["name"] == "demo-candidate" and written["title"].endswith("params candidate.yaml")
