"""Label assignment on small worked examples: the LLA cost matrix, top-K, tie-breaking, the strict
in-box rule, ignore regions, the FCOS and RetinaNet* baselines and the ambiguous-assignment ratio."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from crowd_perception.models.detector.assignment import (  # noqa: E402
    CODE_OUTSIDE_COST,
    CODE_REG_WEIGHT,
    PAPER_OUTSIDE_COST,
    PAPER_REG_WEIGHT,
    AssignConfig,
    ambiguous_assignment_ratio,
    assign,
    assign_fcos,
    assign_lla,
    assign_retina,
    lla_cost,
    points_inside,
    retina_anchor_boxes,
    topk_match,
)

T = torch.tensor
FOCAL_AT_HALF = 0.25 * 0.25 * math.log(2)  # -alpha (1 - p)^2 log p at p = 0.5 (logit 0)

# Two people side by side and three anchor points with known predictions.
POINTS = T([[10.0, 10.0], [30.0, 10.0], [50.0, 50.0]])
GTS = T([[0.0, 0.0, 20.0, 20.0], [20.0, 0.0, 40.0, 40.0]])
PREDS = T([[0.0, 0.0, 20.0, 20.0], [20.0, 0.0, 40.0, 20.0], [45.0, 45.0, 55.0, 55.0]])


@pytest.mark.parametrize(
    ("lam", "const"), [(PAPER_REG_WEIGHT, PAPER_OUTSIDE_COST), (CODE_REG_WEIGHT, CODE_OUTSIDE_COST)]
)
def test_cost_matrix_by_hand(lam: float, const: float) -> None:
    cfg = AssignConfig(reg_weight=lam, outside_cost=const)
    cost, iou = lla_cost(torch.zeros(3), PREDS, POINTS, GTS, cfg)
    no_overlap = -math.log(1e-6)
    expected = [
        [FOCAL_AT_HALF, FOCAL_AT_HALF + lam * no_overlap + const, FOCAL_AT_HALF + lam * no_overlap + const],
        [
            FOCAL_AT_HALF + lam * no_overlap + const,
            FOCAL_AT_HALF + lam * math.log(2),
            FOCAL_AT_HALF + lam * no_overlap + const,
        ],
    ]
    torch.testing.assert_close(cost, T(expected), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(iou, T([[1.0, 0.0, 0.0], [0.0, 0.5, 0.0]]))


def test_confident_anchor_costs_less() -> None:
    cfg = AssignConfig()
    cost, _ = lla_cost(T([3.0, -3.0]), PREDS[:2], POINTS[:1].repeat(2, 1), GTS[:1], cfg)
    assert cost[0, 0] < cost[0, 1]


def test_topk_and_tie_breaking() -> None:
    cost = T([[1.0, 1.0, 5.0, 0.5], [2.0, 0.1, 0.1, 9.0]])
    # GT0: 0.5 (anchor 3), then the tie 1.0 / 1.0 goes to the lower anchor index 0
    assert topk_match(cost, 2).tolist() == [0, 1, 1, 0]
    assert topk_match(cost, 1).tolist() == [-1, 1, -1, 0]  # GT1's tie 0.1 / 0.1 -> anchor 1


def test_conflicts_go_to_cheapest_then_lower_gt() -> None:
    assert topk_match(T([[3.0, 1.0], [2.0, 9.0]]), 2).tolist() == [1, 0]
    assert topk_match(T([[1.0, 2.0], [1.0, 3.0]]), 2).tolist() == [0, 0]  # equal cost 1.0: GT 0 wins


def test_topk_larger_than_anchors_and_empty() -> None:
    assert topk_match(T([[1.0, 2.0]]), 10).tolist() == [0, 0]
    assert topk_match(torch.zeros(0, 3), 10).tolist() == [-1, -1, -1]


def test_strict_in_box_rule() -> None:
    box = T([[0.0, 0.0, 10.0, 10.0]])
    pts = T([[5.0, 5.0], [10.0, 5.0], [0.0, 0.0], [5.0, 9.999], [5.0, 10.0]])
    assert points_inside(pts, box)[0].tolist() == [True, False, False, True, False]


def test_outside_anchors_only_fill_up_topk() -> None:
    # one GT, anchors 0-1 inside, 2-4 outside; perfect predictions everywhere
    pts = T([[5.0, 5.0], [8.0, 8.0], [15.0, 5.0], [25.0, 5.0], [35.0, 5.0]])
    gt = T([[0.0, 0.0, 10.0, 10.0]])
    preds = gt.repeat(5, 1)
    cfg = AssignConfig(topk=3)
    a = assign_lla(torch.zeros(5), preds, pts, gt, T([False]), cfg)
    assert a.gt_index.tolist() == [0, 0, 0, -1, -1]  # the two inside, then the first (lowest index) outside
    cfg = AssignConfig(topk=2)
    assert assign_lla(torch.zeros(5), preds, pts, gt, T([False]), cfg).positive.tolist() == [
        True,
        True,
        False,
        False,
        False,
    ]


def test_ignore_regions_take_anchors_but_are_not_positive() -> None:
    gts = T([[0.0, 0.0, 20.0, 20.0], [20.0, 0.0, 40.0, 40.0]])
    ignore = T([False, True])
    a = assign_lla(torch.zeros(3), PREDS, POINTS, gts, ignore, AssignConfig(topk=1))
    assert a.gt_index.tolist() == [0, 1, -1]
    assert a.positive.tolist() == [True, False, False]
    assert a.ignored.tolist() == [False, True, False]


def test_dispatch_and_errors() -> None:
    with pytest.raises(ValueError, match="needs the predictions"):
        assign(AssignConfig(), POINTS, T([8.0, 8.0, 8.0]), GTS, T([False, False]))
    with pytest.raises(ValueError, match="unknown assignment"):
        assign(AssignConfig(method="atss"), POINTS, T([8.0, 8.0, 8.0]), GTS, T([False, False]))


def _grid(size: int, stride: float) -> tuple[torch.Tensor, torch.Tensor]:
    r = (torch.arange(size // int(stride), dtype=torch.float32) + 0.5) * stride
    ys, xs = torch.meshgrid(r, r, indexing="ij")
    pts = torch.stack([xs.ravel(), ys.ravel()], 1)
    return pts, torch.full((len(pts),), stride)


def test_fcos_centre_sampling_and_scale_ranges() -> None:
    p8, s8 = _grid(128, 8.0)
    p16, s16 = _grid(128, 16.0)
    pts, strides = torch.cat([p8, p16]), torch.cat([s8, s16])
    small = T([[8.0, 8.0, 40.0, 72.0]])  # max(l,t,r,b) <= 32 everywhere: level 0 range [0, 64]
    large = T([[0.0, 0.0, 64.0, 128.0]])  # near its centre max(l,t,r,b) ~ 64..76: level 1
    cfg = AssignConfig(method="fcos", fcos_ranges=(0.0, 64.0))
    a = assign_fcos(pts, strides, small, T([False]), cfg)
    pos = a.positive
    assert pos.any() and (strides[pos] == 8).all()
    centre = T([24.0, 40.0])
    assert ((pts[pos] - centre).abs() < 1.5 * 8).all()
    b = assign_fcos(pts, strides, large, T([False]), cfg)
    assert b.positive.any() and (strides[b.positive] == 16).all()
    both = assign_fcos(pts, strides, torch.cat([large, small]), T([False, False]), cfg)
    shared = a.positive & (both.gt_index >= 0)
    assert (both.gt_index[shared] == 1).all()  # the smaller box wins where both qualify


def test_retina_iou_thresholds() -> None:
    cfg = AssignConfig(method="retina", retina_scale=8.0, retina_aspect=0.5)
    pts = T([[50.0, 50.0], [60.0, 50.0], [200.0, 200.0]])
    strides = T([8.0, 8.0, 8.0])
    anchors = retina_anchor_boxes(pts, strides, cfg)
    torch.testing.assert_close(anchors[0], T([34.0, 18.0, 66.0, 82.0]))
    gt = anchors[:1].clone()  # anchor 0 matches exactly; anchor 1 is shifted by 10 px: IoU 22/42 = 0.52
    a = assign_retina(pts, strides, gt, T([False]), cfg)
    assert a.positive.tolist() == [True, True, False]
    gt2 = T([[34.0, 18.0, 66.0, 82.0]]) + T([14.0, 0.0, 14.0, 0.0])  # IoU 18/46 = 0.39 with anchor 0, 0.6 w/ anchor 1
    b = assign_retina(pts, strides, gt2, T([False]), cfg)
    assert b.positive.tolist() == [False, True, False] and not b.ignored.any()
    gt3 = T([[34.0, 18.0, 66.0, 82.0]]) + T([11.0, 0.0, 11.0, 0.0])  # anchor 0: IoU 21/43 = 0.49 -> ignored band
    c = assign_retina(pts, strides, gt3, T([False]), cfg)
    assert c.positive.tolist() == [False, True, False] and c.ignored.tolist() == [True, False, False]


def test_retina_keeps_each_gts_best_anchor() -> None:
    cfg = AssignConfig(method="retina")
    pts, strides = T([[50.0, 50.0]]), T([8.0])
    gt = T([[40.0, 20.0, 80.0, 100.0]])  # low IoU, but the only anchor
    assert assign_retina(pts, strides, gt, T([False]), cfg).positive.tolist() == [True]


def test_ambiguous_assignment_ratio() -> None:
    gts = T([[0.0, 0.0, 20.0, 20.0], [10.0, 0.0, 30.0, 20.0], [100.0, 100.0, 120.0, 120.0]])
    pts = T([[5.0, 5.0], [15.0, 5.0], [25.0, 5.0], [15.0, 15.0]])
    a = assign(
        AssignConfig(method="lla", topk=2),
        pts,
        torch.full((4,), 8.0),
        gts,
        T([False, False, True]),
        torch.zeros(4),
        gts[[0, 0, 1, 1]],
    )
    ambiguous, positives = ambiguous_assignment_ratio(pts, gts, T([False, False, True]), a)
    assert positives == 4 and ambiguous == 2  # points at x = 15 lie in both people
