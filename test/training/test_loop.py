"""The training loop: loss goes down on a toy problem, logs are written, resume continues exactly."""

from __future__ import annotations

import csv
import itertools

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from crowd_perception.training import (  # noqa: E402
    DistContext,
    TrainConfig,
    cycle,
    load_weights,
    lr_at,
    make_loader,
    train,
)


class _Regression(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.model = nn.Linear(2, 1)
        self.log_var = nn.Parameter(torch.zeros(1))  # a learnable loss parameter outside the model

    def forward(self, batch):
        x, y = batch
        mse = ((self.model(x) - y) ** 2).mean()
        return 0.5 * (torch.exp(-self.log_var) * mse + self.log_var).sum(), {"mse": mse.detach()}


def _data():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 2, generator=g)
    return torch.utils.data.TensorDataset(x, x @ torch.tensor([[2.0], [-1.0]]) + 0.5)


def _cfg(**kw) -> TrainConfig:
    base = dict(steps=60, batch_size=16, lr=0.05, warmup_steps=5, log_every=10, checkpoint_every=0, threads=1)
    return TrainConfig(**{**base, **kw})


def test_train_reduces_loss_and_logs(tmp_path) -> None:
    ctx = DistContext()
    cfg = _cfg()
    loader = make_loader(_data(), cfg.batch_size, ctx, seed=0)
    calls = []
    result = train(
        _Regression(), cycle(loader), cfg, cfg, tmp_path, ctx, evaluate=lambda m: calls.append(1) or {"x": 1}
    )
    assert result.steps == 60 and calls == [1]
    with (tmp_path / "log.csv").open() as f:
        rows = list(csv.DictReader(f))
    mses = [float(r["mse"]) for r in rows if r["mse"]]
    assert mses[-1] < 0.2 * mses[0]
    assert rows[-1]["eval/x"] == "1.0"
    state, config = load_weights(result.weights)
    assert set(state) == {"weight", "bias"} and config["steps"] == 60
    assert (tmp_path / "config.json").exists()


def test_resume_matches_uninterrupted_run(tmp_path) -> None:
    ctx = DistContext()
    batch = next(iter(make_loader(_data(), 16, ctx, seed=0)))
    full = train(_Regression(), itertools.repeat(batch), _cfg(steps=8), {}, tmp_path / "full", ctx)
    train(_Regression(), itertools.repeat(batch), _cfg(steps=4), {}, tmp_path / "half", ctx)
    resumed = train(
        _Regression(),
        itertools.repeat(batch),
        _cfg(steps=8),
        {},
        tmp_path / "res",
        ctx,
        resume=tmp_path / "half" / "last.safetensors",
    )
    assert resumed.steps == 8
    a, _ = load_weights(full.weights)
    b, _ = load_weights(resumed.weights)
    for k in a:
        torch.testing.assert_close(a[k], b[k])


def test_lr_schedule() -> None:
    cfg = TrainConfig(steps=100, lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    assert lr_at(0, cfg) == pytest.approx(0.1)
    assert lr_at(10, cfg) == pytest.approx(1.0)
    assert lr_at(100, cfg) == pytest.approx(0.1)
    assert lr_at(55, cfg) == pytest.approx(0.55)


def test_non_finite_loss_stops(tmp_path) -> None:
    class _Bad(_Regression):
        def forward(self, batch):
            return self.model(batch[0]).sum() * float("nan"), {}

    batch = next(iter(make_loader(_data(), 16, DistContext(), seed=0)))
    with pytest.raises(FloatingPointError):
        train(_Bad(), itertools.repeat(batch), _cfg(steps=3), {}, tmp_path, DistContext())
