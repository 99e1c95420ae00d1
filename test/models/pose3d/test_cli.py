from pathlib import Path

import pytest

from crowd_perception.cli import build_parser
from crowd_perception.models.pose3d.cli import COMMANDS


def test_commands_parse():
    parser = build_parser(COMMANDS)
    args = parser.parse_args(["train", "pose3d", "--out", "x", "--set", "selection=box", "--set", "train.steps=5"])
    assert args.out == Path("x") and args.overrides == ["selection=box", "train.steps=5"]
    args = parser.parse_args(["evaluate", "pose3d-latency", "--people", "1,80", "--threads", "2"])
    assert args.people == "1,80" and args.threads == 2 and args.model.name == "pose3d.onnx"


def test_bad_override_is_a_clear_error(tmp_path):
    parser = build_parser(COMMANDS)
    args = parser.parse_args(["train", "pose3d", "--out", str(tmp_path), "--set", "weighting"])
    with pytest.raises(ValueError, match="not key=value"):
        args._run(args)


def test_ablation_needs_label_equals_path():
    parser = build_parser(COMMANDS)
    args = parser.parse_args(["evaluate", "pose3d-ablation", "--runs", "nolabel"])
    with pytest.raises(SystemExit, match="LABEL=WEIGHTS"):
        args._run(args)


def test_unknown_variant_is_rejected_before_training(tmp_path):
    parser = build_parser(COMMANDS)
    args = parser.parse_args(["train", "pose3d", "--out", str(tmp_path), "--set", "selection=oracle"])
    with pytest.raises(ValueError, match="unknown anchor selection"):
        args._run(args)
