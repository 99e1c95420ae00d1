"""Safetensors weights and training checkpoints: round trip, config, optimiser state, bad input."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from crowd_perception.training.checkpoint import (  # noqa: E402
    load_checkpoint,
    load_weights,
    read_config,
    save_checkpoint,
    save_weights,
)
from crowd_perception.training.config import TrainConfig  # noqa: E402


class _Task(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
        self.log_var = nn.Parameter(torch.tensor([-4.0]))


def test_weights_round_trip(tmp_path) -> None:
    model = nn.Linear(3, 2)
    path = save_weights(tmp_path / "w.safetensors", model, TrainConfig(steps=3))
    state, config = load_weights(path)
    assert config["steps"] == 3
    assert json.loads((tmp_path / "w.config.json").read_text())["steps"] == 3
    fresh = nn.Linear(3, 2)
    fresh.load_state_dict(state)
    assert torch.equal(fresh.weight, model.weight)


def test_checkpoint_restores_optimizer_and_rng(tmp_path) -> None:
    task = _Task()
    opt = torch.optim.AdamW(task.parameters(), lr=0.1)
    task.model(torch.randn(5, 3)).sum().backward()
    opt.step()
    path = save_checkpoint(tmp_path / "c.safetensors", task, {"a": 1}, step=11, optimizer=opt, extra={"note": "x"})
    expected_next = torch.rand(3)
    other = _Task()
    other_opt = torch.optim.AdamW(other.parameters(), lr=0.5)
    info = load_checkpoint(path, other, other_opt)
    assert info["step"] == 11 and info["extra"] == {"note": "x"} and info["config"] == {"a": 1}
    assert torch.equal(torch.rand(3), expected_next)
    for p, q in zip(task.parameters(), other.parameters(), strict=True):
        assert torch.equal(p, q)
    assert other_opt.param_groups[0]["lr"] == 0.1
    s0, s1 = opt.state_dict()["state"], other_opt.state_dict()["state"]
    assert set(s0) == set(s1) and s0
    k = next(iter(s0))
    assert torch.equal(s0[k]["exp_avg"], s1[k]["exp_avg"]) and float(s0[k]["step"]) == float(s1[k]["step"])
    # the network alone is readable as weights
    state, _ = load_weights(path, prefix="model.")
    assert set(state) == set(task.model.state_dict())


def test_bad_files(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        load_weights(tmp_path / "missing.safetensors")
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(ValueError, match="no config"):
        read_config(tmp_path / "plain.safetensors")
    weights = save_weights(tmp_path / "w.safetensors", nn.Linear(1, 1), {"a": 1})
    with pytest.raises(ValueError, match="not a training checkpoint"):
        load_checkpoint(weights, _Task())
