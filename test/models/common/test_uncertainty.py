"""One uncertainty weighting convention (s = log σ², term exp(-s) L + s) for both models, and the
pose3d loss's conversion of checkpoints written with the former log-λ parameters."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from crowd_perception.models.common.uncertainty import UncertaintyWeighting, uncertainty_weighted  # noqa: E402
from crowd_perception.models.pose3d.loss import UncertaintyWeights  # noqa: E402


def test_term_value_and_its_minimum_at_the_loss() -> None:
    s = torch.tensor(math.log(3.0), requires_grad=True)
    term = uncertainty_weighted(torch.tensor(3.0), s)
    assert term.item() == pytest.approx(1 + math.log(3.0))
    term.backward()
    assert abs(s.grad.item()) < 1e-6, "d/ds (e^-s L + s) = 0 at s = log L"


def test_a_larger_log_variance_lowers_the_task_weight() -> None:
    loss = torch.tensor(2.0)
    low, high = (uncertainty_weighted(loss, torch.tensor(v)) - v for v in (0.0, 1.0))
    assert high < low


def test_both_models_use_the_same_convention() -> None:
    detector = UncertaintyWeighting((0.7,))
    pose3d = UncertaintyWeights("task", num_anchors=1, num_joints=1)
    with torch.no_grad():
        for p in pose3d.log_vars.values():
            p.fill_(0.7)
    sums = {t: torch.full((1, 1), 2.0) for t in ("cls", "loc", "pose2d", "pose3d")}
    counts = {t: torch.ones(1, 1) for t in sums}
    pose3d_total, _ = pose3d(sums, counts)
    # JDE halves the sum; the 3D loss does not: the same term either way
    assert 2 * detector([torch.tensor(2.0)]).item() == pytest.approx(pose3d_total.item() / 4, rel=1e-6)


def test_pose3d_loads_log_lambda_parameters_as_negated_log_variances() -> None:
    weights = UncertaintyWeights("anchor", num_anchors=2, num_joints=3)
    legacy = {f"log_weights.{t}": torch.full(p.shape, 0.5) for t, p in weights.log_vars.items()}
    weights.load_state_dict(legacy)
    assert all(torch.equal(p, torch.full(p.shape, -0.5)) for p in weights.log_vars.values())
    assert set(weights.state_dict()) == {f"log_vars.{t}" for t in weights.log_vars}
