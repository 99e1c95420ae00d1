"""The models' export and build-engines commands: parsing, and clear failures when models or TensorRT are missing."""

from __future__ import annotations

import logging

import pytest

from crowd_perception.cli import build_parser
from crowd_perception.models.cli import COMMANDS


def test_commands_parse():
    parser = build_parser(COMMANDS)
    assert parser.parse_args(["build-engines", "--precision", "fp32"]).precision == "fp32"
    assert parser.parse_args(["export", "--int8"]).int8
    with pytest.raises(SystemExit):
        parser.parse_args(["export", "--models", "segmenter"])


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


def test_export_writes_each_model_through_its_registered_function(tmp_path, tiny_model, monkeypatch, capsys):
    from crowd_perception.models import cli
    from crowd_perception.runtime.metadata import ModelMetadata

    calls = []

    def fake_export(weights, onnx_path):
        """Stands in for a model area's export: 'exports' the tiny model."""
        calls.append((weights, onnx_path))
        onnx_path.parent.mkdir(parents=True, exist_ok=True)
        onnx_path.write_bytes(tiny_model[0].read_bytes())
        onnx_path.with_suffix(".json").write_bytes(tiny_model[0].with_suffix(".json").read_bytes())
        return ModelMetadata.load(onnx_path.with_suffix(".json"))

    monkeypatch.setattr(cli, "exporter", lambda name: fake_export)
    (tmp_path / "pose3d.safetensors").write_bytes(b"weights")
    args = build_parser(COMMANDS).parse_args(
        ["export", "--weights-dir", str(tmp_path), "--out-dir", str(tmp_path / "out"), "--models", "pose3d"]
    )
    assert args._run(args) == 0
    assert calls == [(tmp_path / "pose3d.safetensors", tmp_path / "out" / "pose3d.onnx")]
    assert (tmp_path / "out" / "pose3d.json").is_file()
    assert "pose3d: " in capsys.readouterr().out
