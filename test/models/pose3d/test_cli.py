from pathlib import Path
from types import SimpleNamespace

import pytest

from crowd_perception.cli import build_parser
from crowd_perception.models.pose3d.cli import COMMANDS


def test_commands_parse():
    parser = build_parser(COMMANDS)
    args = parser.parse_args(["train", "pose3d", "--out", "x", "--set", "selection=box", "--set", "train.steps=5"])
    assert args.out == Path("x") and args.overrides == ["selection=box", "train.steps=5"]
    args = parser.parse_args(["evaluate", "pose3d-latency", "--people", "1,80", "--threads", "2"])
    assert args.people == "1,80" and args.threads == 2 and args.model.name == "pose3d.onnx"
    args = parser.parse_args(["evaluate", "pose3d-real", "--models", "a.onnx", "b.onnx", "--data", "fixtures:f"])
    assert args.models == [Path("a.onnx"), Path("b.onnx")] and args.data == "fixtures:f"


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


def test_resume_starts_from_the_checkpoint_config(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from crowd_perception.models.pose3d import train as train_module
    from crowd_perception.models.pose3d.config import Pose3DConfig
    from crowd_perception.models.pose3d.model import ModelConfig
    from crowd_perception.training import save_checkpoint

    cfg = Pose3DConfig(model=ModelConfig(anchors=((8.0, 20.0),), body_size_mean_m=4.5, body_size_std_m=0.4))
    checkpoint = save_checkpoint(tmp_path / "last.safetensors", torch.nn.Linear(1, 1), cfg, step=3)
    seen = {}
    def fake_training(c, out, resume=None):
        seen.update(cfg=c, resume=resume)
        return SimpleNamespace(steps=0, seconds=0.0, weights=None, eval_metrics={})

    monkeypatch.setattr(train_module, "run_training", fake_training)
    parser = build_parser(COMMANDS)
    args = parser.parse_args(["train", "pose3d", "--resume", str(checkpoint), "--set", "train.steps=350"])
    args._run(args)
    assert seen["cfg"].model.anchors == ((8.0, 20.0),) and seen["cfg"].train.steps == 350
    assert seen["resume"] == checkpoint
