"""Losses: focal and GIoU on hand-computed values, JDE's identity scale, the uncertainty weighting
formula, and the criterion end to end on a tiny batch (positives, ignore handling, identities)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from crowd_perception.models.common.uncertainty import UncertaintyWeighting  # noqa: E402
from crowd_perception.models.detector.assignment import AssignConfig  # noqa: E402
from crowd_perception.models.detector.loss import (  # noqa: E402
    DetectionCriterion,
    LossConfig,
    giou_loss,
    identity_scale,
    sigmoid_focal_loss,
)
from crowd_perception.models.detector.postprocess import anchor_points  # noqa: E402

T = torch.tensor


def test_focal_loss_by_hand() -> None:
    # logit 0 (p = 0.5): positive -> 0.25 * 0.25 * ln 2; negative -> 0.75 * 0.25 * ln 2
    got = sigmoid_focal_loss(T([0.0, 0.0]), T([1.0, 0.0]))
    torch.testing.assert_close(got, T([0.0625 * math.log(2), 0.1875 * math.log(2)]))
    # a confident correct prediction costs almost nothing
    assert sigmoid_focal_loss(T([6.0]), T([1.0])) < 1e-6


def test_giou_loss_by_hand() -> None:
    a = T([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0]])
    b = T([[0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 3.0, 2.0], [2.0, 0.0, 3.0, 1.0]])
    # identical: 0; half overlap: IoU 1/3, hull = union -> 2/3; disjoint with a gap: IoU 0, hull 3, union 2 -> 1 + 1/3
    torch.testing.assert_close(giou_loss(a, b), T([0.0, 2 / 3, 4 / 3]))


def test_identity_scale() -> None:
    assert identity_scale(501) == pytest.approx(math.sqrt(2) * math.log(500))
    with pytest.raises(ValueError):
        identity_scale(2)


def test_uncertainty_weighting_formula_and_missing_task() -> None:
    w = UncertaintyWeighting((-4.15, -4.85, -2.3))
    losses = [T(1.0), T(2.0), T(3.0)]
    expected = sum(0.5 * (math.exp(-s) * v + s) for s, v in zip((-4.15, -4.85, -2.3), (1.0, 2.0, 3.0), strict=True))
    assert float(w(losses).detach()) == pytest.approx(expected, rel=1e-5)
    expected_two = sum(0.5 * (math.exp(-s) * v + s) for s, v in zip((-4.15, -4.85), (1.0, 2.0), strict=True))
    assert float(w([losses[0], losses[1], None]).detach()) == pytest.approx(expected_two, rel=1e-5)
    # d/ds of 0.5 (e^-s L + s) vanishes at s = ln L: the learned weight tracks the loss
    w1 = UncertaintyWeighting((1.0,))
    w1([T(math.e)]).backward()
    assert w1.log_vars.grad.abs().item() < 1e-6


def _batch(num_ids: int = 5):
    h, w, strides = 64, 96, (8, 16, 32)
    points, pstrides = (torch.from_numpy(a) for a in anchor_points(h, w, strides))
    n = len(points)
    gen = torch.Generator().manual_seed(0)
    outputs = (
        torch.randn(2, n, 1, generator=gen, requires_grad=True),
        torch.rand(2, n, 4, generator=gen).add(1.0).requires_grad_(),
        torch.randn(2, n, 1, generator=gen, requires_grad=True),
        torch.randn(2, n, 8, generator=gen, requires_grad=True),
    )
    targets = [
        {
            "boxes": T([[10.0, 8.0, 30.0, 56.0], [50.0, 4.0, 70.0, 60.0]]),
            "ignore": T([False, False]),
            "ids": T([0, num_ids - 1]),
        },
        {"boxes": T([[0.0, 0.0, 96.0, 64.0]]), "ignore": T([True]), "ids": T([-1])},  # only an ignore region
    ]
    return outputs, targets, points, pstrides


@pytest.mark.parametrize("weighting", ["uncertainty", "uniform"])
@pytest.mark.parametrize("method", ["lla", "fcos", "retina"])
def test_criterion_end_to_end(weighting: str, method: str) -> None:
    outputs, targets, points, strides = _batch()
    cfg = LossConfig(assign=AssignConfig(method=method, retina_scale=4.0), weighting=weighting, num_identities=5)
    crit = DetectionCriterion(cfg, embedding_dim=8)
    loss, logs = crit(outputs, targets, points, strides)
    assert torch.isfinite(loss)
    loss.backward()
    assert all(o.grad is not None and torch.isfinite(o.grad).all() for o in outputs)
    assert logs["num_pos"] > 0 and "loss_id" in logs
    # the ignore-region image contributes no positives and no classification loss where ignored
    a = crit.assign_batch(outputs[0].detach(), outputs[1].detach(), points, strides, targets)[1]
    assert not a.positive.any() and (a.ignored.any() or method != "lla")
    if weighting == "uncertainty":
        assert crit.weighting.log_vars.grad is not None


def test_lla_positives_are_topk_per_person() -> None:
    outputs, targets, points, strides = _batch()
    crit = DetectionCriterion(LossConfig(num_identities=5), embedding_dim=8)
    a = crit.assign_batch(outputs[0].detach(), outputs[1].detach(), points, strides, targets)[0]
    counts = torch.bincount(a.gt_index[a.positive], minlength=2)
    assert counts.tolist() == [10, 10]


def test_identity_loss_off_without_enough_identities() -> None:
    outputs, targets, points, strides = _batch()
    crit = DetectionCriterion(LossConfig(num_identities=0), embedding_dim=8)
    _, logs = crit(outputs, targets, points, strides)
    assert "loss_id" not in logs and not hasattr(crit, "classifier")


def test_bad_weighting() -> None:
    with pytest.raises(ValueError, match="weighting"):
        DetectionCriterion(LossConfig(weighting="gradnorm"), 8)
