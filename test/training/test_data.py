"""Seeded loading: the same seed gives the same order; move_to reaches nested tensors."""

from __future__ import annotations

from collections import namedtuple

import pytest

torch = pytest.importorskip("torch")

from crowd_perception.training import DistContext, make_loader, move_to, shard_info  # noqa: E402


def _order(seed: int) -> list[int]:
    data = torch.utils.data.TensorDataset(torch.arange(20))
    return [int(v) for (b,) in make_loader(data, 5, DistContext(), seed=seed) for v in b]


def test_seeded_order() -> None:
    assert _order(3) == _order(3)
    assert _order(3) != _order(4)
    assert sorted(_order(3)) == list(range(20))


def test_move_to_nested() -> None:
    Pair = namedtuple("Pair", "a b")
    out = move_to({"x": [torch.zeros(1), (torch.ones(1), "s")], "p": Pair(torch.zeros(2), 3)}, torch.device("cpu"))
    assert out["x"][1][1] == "s" and isinstance(out["p"], Pair) and out["p"].b == 3


def test_single_process_shard() -> None:
    assert shard_info() == (0, 1)
