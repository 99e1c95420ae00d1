import numpy as np
import pytest

torch = pytest.importorskip("torch")

from crowd_perception.models.pose3d.loss import FIXED_WEIGHTS, PandaNetLoss, Targets, UncertaintyWeights  # noqa: E402
from crowd_perception.models.pose3d.targets import encode_boxes, encode_pose2d, match_anchors  # noqa: E402

A, K = 3, 4


def _sums(value: float = 2.0):
    sums = {t: torch.full((A, 1 if t in ("cls", "loc") else K), value) for t in ("cls", "loc", "pose2d", "pose3d")}
    counts = {t: torch.ones_like(v) for t, v in sums.items()}
    return sums, counts


@pytest.mark.parametrize(("mode", "shape2d"), [("task", (1, 1)), ("anchor", (A, 1)), ("joint", (A, K))])
def test_weight_shapes_per_mode(mode, shape2d):
    weights = UncertaintyWeights(mode, A, K)
    assert tuple(weights.log_vars["pose2d"].shape) == shape2d
    assert tuple(weights.log_vars["cls"].shape) == ((1, 1) if mode == "task" else (A, 1))


def test_uncertainty_term_value_and_gradient():
    weights = UncertaintyWeights("joint", A, K)
    with torch.no_grad():
        weights.log_vars["loc"][0, 0] = np.log(2.0)
    sums, counts = _sums(2.0)
    total, means = weights(sums, counts)
    # exp(-s) * L + s per group: loc anchor 0 has s = log 2 (weight 0.5) -> 0.5 * 2 + log 2; every other group 2
    n_groups = A + A + A * K + A * K
    assert total.item() == pytest.approx((n_groups - 1) * 2.0 + 1.0 + np.log(2.0), rel=1e-6)
    total.backward()
    # d/ds (exp(-s) L + s) = 1 - exp(-s) L
    assert weights.log_vars["loc"].grad[0, 0].item() == pytest.approx(1 - 0.5 * 2, abs=1e-6)
    assert weights.log_vars["pose3d"].grad[1, 2].item() == pytest.approx(1 - 2)
    assert means["pose2d"].item() == pytest.approx(2.0)


def test_groups_without_samples_contribute_nothing():
    weights = UncertaintyWeights("anchor", A, K)
    sums, counts = _sums(1.0)
    counts["loc"][1] = 0
    sums["loc"][1] = 0
    total, _ = weights(sums, counts)
    total.backward()
    assert weights.log_vars["loc"].grad[1, 0].item() == 0.0


def test_task_mode_averages_within_the_task():
    weights = UncertaintyWeights("task", A, K)
    sums = {t: torch.arange(A * (1 if t in ("cls", "loc") else K), dtype=torch.float32).reshape(A, -1)
            for t in ("cls", "loc", "pose2d", "pose3d")}
    counts = {t: torch.ones_like(v) for t, v in sums.items()}
    total, _ = weights(sums, counts)
    expected = sum(v.mean().item() for v in sums.values())
    assert total.item() == pytest.approx(expected)


def test_fixed_mode_uses_constant_weights():
    weights = UncertaintyWeights("fixed", A, K)
    assert not any(p.requires_grad for p in weights.parameters())
    sums, counts = _sums(1.0)
    total, _ = weights(sums, counts)
    assert total.item() == pytest.approx(sum(FIXED_WEIGHTS.values()))


def _batch():
    anchors = torch.tensor([[0, 0, 10, 20], [0, 0, 20, 40], [40, 40, 50, 60]], dtype=torch.float32)
    gt_boxes = np.array([[1, 0, 11, 20]], dtype=np.float32)
    gt_index, _, pono = match_anchors(anchors.numpy(), gt_boxes)
    kp = np.random.default_rng(0).uniform(0, 20, (1, K, 2)).astype(np.float32)
    poses = np.random.default_rng(1).normal(size=(1, K, 3)).astype(np.float32) * 0.1
    targets = Targets(
        torch.from_numpy(gt_index)[None], torch.from_numpy(pono)[None], torch.from_numpy(gt_boxes)[None],
        torch.from_numpy(kp)[None], torch.ones(1, 1, K, dtype=torch.bool), torch.from_numpy(poses)[None],
        torch.ones(1, 1, dtype=torch.bool),
    )
    return anchors, targets, kp, poses, gt_boxes


def test_perfect_predictions_have_zero_regression_losses_and_correct_labels():
    anchors, targets, kp, poses, gt_boxes = _batch()
    loss_fn = PandaNetLoss(anchors, num_anchor_shapes=3, num_joints=K, selection="pose", weighting="task")
    positive = targets.pono[0] > 0.5
    assert positive.tolist() == [True, False, False]
    outputs = {
        "scores": torch.tensor([[8.0, -8.0, -8.0]]),
        "boxes": torch.from_numpy(encode_boxes(np.repeat(gt_boxes, 3, 0), anchors.numpy()))[None].float(),
        "pose2d": torch.from_numpy(encode_pose2d(np.repeat(kp, 3, 0), anchors.numpy()))[None].float(),
        "pose3d": torch.from_numpy(np.repeat(poses, 3, 0))[None],
    }
    _, logs = loss_fn(outputs, targets)
    assert logs["loc"] == pytest.approx(0.0, abs=1e-8)
    assert logs["pose2d"] == pytest.approx(0.0, abs=1e-8)
    assert logs["pose3d"] == pytest.approx(0.0, abs=1e-10)
    assert logs["labels"] == 1 and logs["positives"] == 1
    assert logs["cls"] < 1e-3


def test_bad_pose_is_not_selected_by_pose_aware_labels_but_is_by_none():
    anchors, targets, _, _, gt_boxes = _batch()
    outputs = {
        "scores": torch.zeros(1, 3, requires_grad=True),
        "boxes": torch.from_numpy(encode_boxes(np.repeat(gt_boxes, 3, 0), anchors.numpy()))[None].float(),
        "pose2d": torch.full((1, 3, K, 2), 5.0, requires_grad=True),  # 5 anchor widths away: IoU 0
        "pose3d": torch.zeros(1, 3, K, 3, requires_grad=True),
    }
    _, logs_pose = PandaNetLoss(anchors, 3, K, selection="pose")(outputs, targets)
    _, logs_none = PandaNetLoss(anchors, 3, K, selection="none")(outputs, targets)
    _, logs_box = PandaNetLoss(anchors, 3, K, selection="box")(outputs, targets)
    assert logs_pose["labels"] == 0 and logs_none["labels"] == 1 and logs_box["labels"] == 1
    total, _ = PandaNetLoss(anchors, 3, K)(outputs, targets)
    total.backward()
    assert outputs["pose3d"].grad.abs().sum() > 0 and outputs["scores"].grad.abs().sum() > 0
