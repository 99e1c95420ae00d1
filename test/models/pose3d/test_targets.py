import numpy as np
import pytest

from crowd_perception.models.pose3d.targets import (
    decode_boxes,
    decode_pose2d,
    encode_boxes,
    encode_pose2d,
    match_anchors,
    selection_labels,
    square_iou,
)


def test_pono_normalises_by_the_best_anchor_of_each_person():
    # Worked example: a 10x10 person at the origin and a 4x4 person far away.
    gt = np.array([[0, 0, 10, 10], [100, 100, 104, 104]], dtype=float)
    anchors = np.array(
        [
            [0, 0, 10, 10],  # IoU 1 with person 0
            [0, 0, 10, 5],  # IoU 0.5 with person 0 -> PONO 0.5, not positive
            [0, 0, 10, 6],  # IoU 0.6 -> PONO 0.6, positive
            [100, 100, 108, 108],  # IoU 16/64 = 0.25 with person 1, its best -> PONO 1
            [100, 100, 108, 104],  # IoU 0.5 with person 1 -> best is 0.5 -> PONO 1
            [200, 200, 210, 210],  # overlaps nobody
        ],
        dtype=float,
    )
    gt_index, iou, pono = match_anchors(anchors, gt)
    np.testing.assert_array_equal(gt_index, [0, 0, 0, 1, 1, -1])
    np.testing.assert_allclose(iou, [1.0, 0.5, 0.6, 0.25, 0.5, 0.0])
    np.testing.assert_allclose(pono, [1.0, 0.5, 0.6, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(selection_labels(pono, "none"), [True, False, True, False, True, False])


def test_small_person_with_low_iou_still_gets_a_positive_anchor():
    gt = np.array([[0, 0, 2, 2]], dtype=float)
    anchors = np.array([[0, 0, 20, 20], [10, 10, 30, 30]], dtype=float)
    _, iou, pono = match_anchors(anchors, gt)
    assert iou[0] == pytest.approx(0.01)
    assert pono[0] == pytest.approx(1.0)


def test_no_ground_truth_means_no_match():
    gt_index, iou, pono = match_anchors(np.zeros((3, 4)), np.zeros((0, 4)))
    assert np.all(gt_index == -1) and np.all(pono == 0) and np.all(iou == 0)


def test_box_and_pose_coding_round_trip():
    anchors = np.array([[10, 20, 30, 80], [0, 0, 8, 16]], dtype=float)
    boxes = np.array([[12, 18, 34, 90], [1, -2, 9, 20]], dtype=float)
    np.testing.assert_allclose(decode_boxes(encode_boxes(boxes, anchors), anchors), boxes)
    kp = np.random.default_rng(0).uniform(0, 100, size=(2, 5, 2))
    uv = encode_pose2d(kp, anchors)
    np.testing.assert_allclose(uv[0, :, 0], (kp[0, :, 0] - 20) / 20)
    np.testing.assert_allclose(decode_pose2d(uv, anchors), kp)


def test_square_iou_worked_values():
    a = np.zeros((4, 2))
    b = np.array([[0, 0], [0.5, 0], [0.5, 0.5], [1.5, 0]])
    # shift 0.5 on one axis: overlap 0.5, union 1.5 -> 1/3; on both: 0.25 / 1.75 -> 1/7
    np.testing.assert_allclose(square_iou(a, b), [1.0, 1 / 3, 1 / 7, 0.0])


def test_square_iou_works_on_torch_tensors_with_gradients():
    torch = pytest.importorskip("torch")
    a = torch.tensor([[0.2, -0.1]], requires_grad=True)
    iou = square_iou(a, torch.zeros(1, 2))
    iou.sum().backward()
    assert iou.item() == pytest.approx(0.8 * 0.9 / (2 - 0.72))
    assert a.grad[0, 0] < 0 and a.grad[0, 1] > 0, "gradients pull the square back towards the target"


def test_pose_and_box_aware_labels():
    pono = np.array([1.0, 1.0, 0.6, 0.4])
    box_iou = np.array([0.9, 0.4, 0.9, 1.0])
    pose_iou = np.array([0.3, 0.9, 0.9, 1.0])
    np.testing.assert_array_equal(selection_labels(pono, "box", box_iou_pred=box_iou), [True, False, True, False])
    np.testing.assert_array_equal(selection_labels(pono, "pose", pose_iou_pred=pose_iou), [False, True, True, False])
    with pytest.raises(ValueError, match="unknown anchor selection"):
        selection_labels(pono, "oracle")
    with pytest.raises(ValueError, match="needs the predicted 2D pose IoU"):
        selection_labels(pono, "pose")
