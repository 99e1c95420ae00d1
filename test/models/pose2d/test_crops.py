import cv2
import numpy as np
import pytest

from crowd_perception.models.pose2d.crops import (
    boxes_to_center_size,
    compose_transforms,
    crop_transforms,
    heatmap_transforms,
    invert_transforms,
    transform_points,
    warp_crops,
)


def test_box_extended_to_aspect_keeps_the_box_inside():
    centers, sizes = boxes_to_center_size(np.array([[10, 20, 30, 120], [0, 0, 300, 100]]), aspect=0.75, padding=1.0)
    np.testing.assert_allclose(centers, [[20, 70], [150, 50]])
    np.testing.assert_allclose(sizes, [[75, 100], [300, 400]])  # tall box: width grown; wide box: height grown


def test_bad_boxes_raise():
    with pytest.raises(ValueError, match="NaN"):
        boxes_to_center_size(np.array([[0, 0, np.nan, 1]]), 0.75)


def test_box_corners_map_to_crop_corners():
    centers, sizes = boxes_to_center_size(np.array([[100.0, 50.0, 130.0, 90.0]]), aspect=0.75, padding=1.0)
    m = crop_transforms(centers, sizes, (128, 96))
    corners = transform_points(np.array([[[100.0, 50.0], [130.0, 90.0]]]), m)
    np.testing.assert_allclose(corners[0], [[-0.5, -0.5], [95.5, 127.5]], atol=1e-9)  # pixel-edge convention


@pytest.mark.parametrize("rotation, flip", [(0.0, False), (30.0, False), (-17.0, True)])
def test_keypoints_map_back_exactly(rotation, flip):
    rng = np.random.default_rng(0)
    boxes = np.array([[40.0, 30.0, 90.0, 170.0], [200.0, 10.0, 260.0, 90.0]])
    centers, sizes = boxes_to_center_size(boxes, aspect=0.75)
    m = crop_transforms(centers, sizes, (128, 96), rotations_deg=[rotation] * 2, flips=[flip] * 2)
    points = rng.uniform(0, 300, size=(2, 17, 2))
    back = transform_points(transform_points(points, m), invert_transforms(m))
    np.testing.assert_allclose(back, points, atol=1e-9)
    # Through the heatmap grid and back, as postprocess does.
    to_heat = compose_transforms(heatmap_transforms(4.0)[None], m)
    heat_to_image = compose_transforms(invert_transforms(m), invert_transforms(heatmap_transforms(4.0)[None]))
    np.testing.assert_allclose(transform_points(transform_points(points, to_heat), heat_to_image), points, atol=1e-9)


def test_warp_agrees_with_point_transform():
    """A bright pixel in the image lands where transform_points says it does in the crop."""
    image = np.zeros((240, 320, 3), np.uint8)
    image[101, 151] = 255
    centers, sizes = boxes_to_center_size(np.array([[120.0, 60.0, 180.0, 140.0]]), aspect=0.75)
    m = crop_transforms(centers, sizes, (128, 96), rotations_deg=[20.0])
    crop = warp_crops(image, m, (128, 96)).astype(np.float64)[0, :, :, 0]
    ys, xs = np.mgrid[0 : crop.shape[0], 0 : crop.shape[1]]
    centroid = np.array([(crop * xs).sum(), (crop * ys).sum()]) / crop.sum()
    expected = transform_points(np.array([[[151.0, 101.0]]]), m)[0, 0]
    np.testing.assert_allclose(centroid, expected, atol=0.05)


def test_heatmap_flip_is_crop_flip():
    """Centre-aligned heatmaps: mirroring the crop mirrors heatmap coordinates about the centre exactly."""
    t = heatmap_transforms(4.0)
    x_crop = np.array([[[10.3, 5.0]]])
    x_flip = np.array([[[96 - 1 - 10.3, 5.0]]])
    u = transform_points(x_crop, t[None])[0, 0, 0]
    u_flip = transform_points(x_flip, t[None])[0, 0, 0]
    assert u + u_flip == pytest.approx(24 - 1)


def test_warp_label_image_nearest_and_batch_shape():
    labels = np.arange(100, dtype=np.int32).reshape(10, 10)
    m = crop_transforms(np.array([[4.5, 4.5], [2.0, 2.0]]), np.array([[10.0, 10.0], [4.0, 4.0]]), (10, 10))
    crops = warp_crops(labels, m, (10, 10), interpolation=cv2.INTER_NEAREST)
    assert crops.shape == (2, 10, 10) and crops.dtype == np.int32
    np.testing.assert_array_equal(crops[0], labels)
    with pytest.raises(ValueError):
        warp_crops(np.zeros((2, 2, 2, 2), np.uint8), m, (4, 4))
