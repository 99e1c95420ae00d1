import numpy as np
import pytest

from crowd_perception.core.boxes import (
    box_ioa,
    box_iou,
    clip_boxes,
    cxcyah_to_xyxy,
    nms,
    paired_giou,
    paired_iou,
    xywh_to_xyxy,
    xyxy_to_cxcyah,
    xyxy_to_xywh,
)


def _random_boxes(rng, n):
    xy = rng.uniform(0, 100, (n, 2))
    wh = rng.uniform(1, 50, (n, 2))
    return np.concatenate([xy, xy + wh], 1)


def test_iou_golden_values():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 10]])
    assert np.allclose(box_iou(a, b), [[50 / 150, 0.0, 1.0]])
    assert np.allclose(box_ioa(np.array([[0, 0, 10, 10]]), np.array([[0, 0, 5, 10]])), [[0.5]])


def test_giou_golden_values():
    assert paired_giou(np.array([0, 0, 10, 10]), np.array([0, 0, 10, 10])) == pytest.approx(1.0)
    # disjoint: iou 0, hull 20x10 = 200, union 200 -> 0 - 0 = 0; further apart goes negative
    assert paired_giou(np.array([0, 0, 10, 10]), np.array([10, 0, 20, 10])) == pytest.approx(0.0)
    assert paired_giou(np.array([0, 0, 10, 10]), np.array([20, 0, 30, 10])) == pytest.approx(-1 / 3)


def test_iou_properties():
    rng = np.random.default_rng(0)
    a, b = _random_boxes(rng, 40), _random_boxes(rng, 30)
    m = box_iou(a, b)
    assert m.shape == (40, 30)
    assert np.allclose(m, box_iou(b, a).T)
    assert (m >= 0).all() and (m <= 1).all()
    assert np.allclose(np.diag(box_iou(a, a)), 1.0)
    assert np.allclose(paired_iou(a[:30], b), np.diag(m[:30]))
    g = paired_giou(a[:30], b)
    assert (g <= paired_iou(a[:30], b) + 1e-12).all() and (g >= -1).all()


def test_format_round_trips():
    rng = np.random.default_rng(1)
    a = _random_boxes(rng, 20)
    assert np.allclose(xywh_to_xyxy(xyxy_to_xywh(a)), a)
    assert np.allclose(cxcyah_to_xyxy(xyxy_to_cxcyah(a)), a)
    assert xywh_to_xyxy(np.array([1, 2, 3, 4])).tolist() == [1, 2, 4, 6]


def test_clip_boxes():
    assert clip_boxes(np.array([[-5, -5, 50, 50]]), 40, 30).tolist() == [[0, 0, 40, 30]]


def test_nms_keeps_best_of_each_cluster():
    rng = np.random.default_rng(2)
    centres = np.array([[50, 50], [200, 50], [50, 200]])
    boxes, scores, cluster = [], [], []
    for c, (x, y) in enumerate(centres):
        for _ in range(6):
            j = rng.uniform(-2, 2, 2)
            boxes.append([x - 20 + j[0], y - 40 + j[1], x + 20 + j[0], y + 40 + j[1]])
            scores.append(rng.uniform())
            cluster.append(c)
    boxes, scores, cluster = np.array(boxes), np.array(scores), np.array(cluster)
    keep = nms(boxes, scores, 0.5)
    assert len(keep) == 3
    for c in range(3):
        members = np.flatnonzero(cluster == c)
        assert members[np.argmax(scores[members])] in keep
    assert (np.diff(scores[keep]) <= 0).all()
    assert len(nms(boxes, scores, 0.5, max_detections=2)) == 2
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).shape == (0,)


def _reference_nms(boxes, scores, threshold, cap):
    """The textbook algorithm on the full IoU matrix, to pin ``nms``'s kept-only loop to it."""
    order = np.argsort(-scores, kind="stable")
    overlaps = box_iou(boxes[order], boxes[order]) > threshold
    suppressed, keep = np.zeros(len(order), bool), []
    for i in range(len(order)):
        if not suppressed[i]:
            keep.append(order[i])
            suppressed |= overlaps[i]
    return np.asarray(keep[:cap], dtype=np.int64)


@pytest.mark.parametrize("n", [0, 1, 7, 400])
def test_nms_matches_the_full_matrix_reference(n):
    rng = np.random.default_rng(n)
    xy = rng.uniform(0, 300, (n, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(0, 80, (n, 2))], 1)  # some degenerate (zero-size)
    scores = rng.random(n)
    for threshold, cap in ((0.3, 50), (0.5, 1000), (0.7, 10)):
        np.testing.assert_array_equal(nms(boxes, scores, threshold, cap), _reference_nms(boxes, scores, threshold, cap))
    assert nms(boxes.astype(np.float32), scores.astype(np.float32), 0.5, 10).dtype == np.int64
