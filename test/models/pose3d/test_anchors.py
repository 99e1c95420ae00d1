import numpy as np
import pytest

from crowd_perception.models.pose3d.anchors import anchor_grid, kmeans_anchors, wh_iou


def test_wh_iou_of_centred_boxes():
    iou = wh_iou([[10, 20]], [[10, 20], [5, 20], [20, 40]])
    np.testing.assert_allclose(iou, [[1.0, 0.5, 0.25]])


def test_kmeans_recovers_well_separated_size_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[8, 20], [20, 50], [60, 150]], dtype=float)
    wh = np.concatenate([c * rng.uniform(0.95, 1.05, size=(100, 2)) for c in centres])
    anchors = kmeans_anchors(wh, k=3, seed=1)
    np.testing.assert_allclose(anchors, centres, rtol=0.05)
    assert np.all(np.diff(anchors.prod(axis=1)) > 0), "sorted by area"


def test_kmeans_rejects_too_few_boxes():
    with pytest.raises(ValueError, match="at least k"):
        kmeans_anchors(np.ones((3, 2)), k=10)


def test_anchor_grid_order_is_row_column_anchor():
    grid = anchor_grid([[2, 4], [6, 8]], grid_h=2, grid_w=3, stride=10)
    assert grid.shape == (2 * 3 * 2, 4)
    # second anchor of the cell in row 1, column 2: centre (25, 15), size 6x8
    np.testing.assert_allclose(grid[(1 * 3 + 2) * 2 + 1], [22, 11, 28, 19])
