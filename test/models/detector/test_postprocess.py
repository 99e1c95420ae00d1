"""Numpy post-processing: anchor layout, l/t/r/b decoding, score = sqrt(cls * iou), threshold, NMS,
normalised embeddings, and reading embeddings at given boxes."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.models.detector.postprocess import (
    OUTPUT_NAMES,
    PostprocessConfig,
    anchor_points,
    decode_boxes,
    embeddings_at_boxes,
    feature_sizes,
    postprocess,
    sigmoid,
)


def test_anchor_layout() -> None:
    assert feature_sizes(320, 576, (8, 16, 32)) == [(40, 72), (20, 36), (10, 18)]
    assert feature_sizes(100, 50, (32,)) == [(4, 2)]
    points, strides = anchor_points(32, 48, (16, 32))
    assert len(points) == 2 * 3 + 1 * 2
    np.testing.assert_array_equal(points[:4], [[8, 8], [24, 8], [40, 8], [8, 24]])  # row-major
    np.testing.assert_array_equal(points[6:], [[16, 16], [48, 16]])
    np.testing.assert_array_equal(strides, [16] * 6 + [32] * 2)


def test_decode() -> None:
    boxes = decode_boxes(np.array([[100.0, 50.0]]), np.array([8.0]), np.array([[1.0, 2.0, 3.0, 4.0]]))
    np.testing.assert_array_equal(boxes, [[92, 34, 124, 82]])


def _outputs(n: int, d: int = 4) -> dict[str, np.ndarray]:
    return {
        "cls_logits": np.full((1, n, 1), -10.0, dtype=np.float32),
        "box_distances": np.ones((1, n, 4), dtype=np.float32),
        "iou_logits": np.zeros((1, n, 1), dtype=np.float32),
        "embeddings": np.tile(np.arange(1, d + 1, dtype=np.float32), (1, n, 1)),
    }


def test_score_threshold_nms_and_embeddings() -> None:
    points, strides = anchor_points(32, 32, (8,))  # 16 points
    out = _outputs(len(points))
    out["cls_logits"][0, [0, 1, 10], 0] = [3.0, 2.0, 1.0]  # 0 and 1 are neighbours (overlapping boxes)
    out["box_distances"][0, [0, 1], :] = 2.0
    (det,) = postprocess(out, points, strides, PostprocessConfig(score_threshold=0.3, nms_iou=0.3))
    expected = np.sqrt(sigmoid(np.array([3.0, 1.0])) * 0.5)
    np.testing.assert_allclose(det.scores, expected, rtol=1e-6)
    np.testing.assert_allclose(det.boxes[0], [4 - 16, 4 - 16, 4 + 16, 4 + 16])
    np.testing.assert_allclose(np.linalg.norm(det.embeddings, axis=1), 1.0, rtol=1e-6)
    # a looser NMS keeps the neighbour
    (det,) = postprocess(out, points, strides, PostprocessConfig(score_threshold=0.3, nms_iou=0.9))
    assert len(det) == 3


def test_sequence_outputs_and_errors() -> None:
    points, strides = anchor_points(16, 16, (8,))
    out = _outputs(len(points))
    assert len(postprocess([out[n] for n in OUTPUT_NAMES], points, strides)[0]) == 0
    with pytest.raises(KeyError):
        postprocess({"cls_logits": out["cls_logits"]}, points, strides)
    with pytest.raises(ValueError, match="anchor points"):
        postprocess(out, *anchor_points(32, 32, (8,)))


def test_sigmoid_stable() -> None:
    np.testing.assert_allclose(sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0.0, 0.5, 1.0])


def test_embeddings_at_boxes() -> None:
    points, strides = anchor_points(32, 32, (8,))
    out = _outputs(len(points))
    out["embeddings"][0] = np.eye(len(points), 4, dtype=np.float32) + 0.01
    out["box_distances"][0, 5] = [1.0, 1.0, 1.0, 1.0]  # point 5 = (12, 12): predicted box (4, 4, 20, 20)
    emb = embeddings_at_boxes(out, points, strides, np.array([[4.0, 4.0, 20.0, 20.0], [30.0, 30.0, 31.0, 31.0]]))
    assert emb.shape == (2, 4)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-6)
    # box 2 contains no point: the nearest point's embedding (point 15 at (28, 28))
    np.testing.assert_allclose(emb[1], out["embeddings"][0, 15] / np.linalg.norm(out["embeddings"][0, 15]), rtol=1e-6)
