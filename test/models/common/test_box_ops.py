"""The torch box overlaps agree with the numpy ones of core.boxes, on worked values and random boxes."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from crowd_perception.core import boxes as np_boxes  # noqa: E402
from crowd_perception.models.common.box_ops import paired_giou, paired_iou, pairwise_iou  # noqa: E402


def _random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    xy = rng.uniform(0, 100, (n, 2))
    return np.concatenate([xy, xy + rng.uniform(1, 50, (n, 2))], 1)


def test_worked_values() -> None:
    a = torch.tensor([[0.0, 0, 10, 10]])
    b = torch.tensor([[0.0, 0, 10, 5], [20.0, 0, 30, 10], [0.0, 0, 10, 10]])
    torch.testing.assert_close(pairwise_iou(a, b), torch.tensor([[0.5, 0.0, 1.0]]))
    torch.testing.assert_close(paired_giou(a.expand(3, 4), b), torch.tensor([0.5, -1 / 3, 1.0]))


def test_torch_matches_numpy_on_random_boxes() -> None:
    rng = np.random.default_rng(0)
    a, b = _random_boxes(rng, 40), _random_boxes(rng, 30)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    np.testing.assert_allclose(pairwise_iou(ta, tb).numpy(), np_boxes.box_iou(a, b), atol=1e-12)
    np.testing.assert_allclose(paired_iou(ta[:30], tb).numpy(), np_boxes.paired_iou(a[:30], b), atol=1e-12)
    np.testing.assert_allclose(paired_giou(ta[:30], tb).numpy(), np_boxes.paired_giou(a[:30], b), atol=1e-12)


def test_empty_pair_is_zero_and_gradients_flow() -> None:
    empty = torch.zeros(1, 4)
    assert paired_iou(empty, empty).item() == 0.0
    pred = torch.tensor([[1.0, 1, 9, 9]], requires_grad=True)
    paired_iou(pred, torch.tensor([[0.0, 0, 10, 10]])).sum().backward()
    assert pred.grad is not None and (pred.grad[0, :2] < 0).all() and (pred.grad[0, 2:] > 0).all()
