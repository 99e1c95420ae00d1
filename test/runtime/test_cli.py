"""The runtime's commands: parsing, and clear failures when models or TensorRT are missing."""

from __future__ import annotations

import logging

import pytest

from crowd_perception.cli import build_parser
from crowd_perception.runtime.cli import COMMANDS


def test_commands_parse():
    parser = build_parser(COMMANDS)
    args = parser.parse_args(["bench", "--models", "pose2d", "--people", "1", "80", "--threads", "2"])
    assert args.models == ["pose2d"] and args.people == [1, 80] and args.threads == 2
    assert parser.parse_args(["build-engines", "--precision", "fp32"]).precision == "fp32"
    assert parser.parse_args(["export", "--int8"]).int8
    with pytest.raises(SystemExit):
        parser.parse_args(["bench", "--models", "segmenter"])


def test_build_engines_without_models_or_tensorrt_fails_clearly(tmp_path, tiny_model, caplog):
    parser = build_parser(COMMANDS)
    args = parser.parse_args(["build-engines", "--weights-dir", str(tmp_path), "--models", "pose2d"])
    with caplog.at_level(logging.ERROR):
        assert args._run(args) == 1
    assert "run `crowd-perception export` first" in caplog.text
    (tmp_path / "pose2d.onnx").write_bytes(tiny_model[0].read_bytes())
    (tmp_path / "pose2d.json").write_bytes(tiny_model[0].with_suffix(".json").read_bytes())
    try:
        import tensorrt  # noqa: F401

        pytest.skip("TensorRT is installed here")
    except ImportError:
        pass
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        assert args._run(args) == 1
    assert "TensorRT is not installed" in caplog.text


def test_export_without_weights_fails_clearly(tmp_path, caplog):
    parser = build_parser(COMMANDS)
    args = parser.parse_args(["export", "--weights-dir", str(tmp_path), "--models", "detector"])
    with caplog.at_level(logging.ERROR):
        assert args._run(args) == 1
    assert "no weights" in caplog.text
