"""Letterbox / resize / normalise: shapes, exact inverse mapping, channel order, bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from crowd_perception.runtime.metadata import Normalization
from crowd_perception.runtime.preprocess import area_resize, letterbox, normalize, prepare_batch, resize


def test_letterbox_keeps_aspect_and_maps_boxes_back(rng):
    image = rng.integers(0, 255, (60, 200, 3), dtype=np.uint8)
    out, t = letterbox(image, (64, 64))
    assert out.shape == (64, 64, 3)
    assert t.scale_x == pytest.approx(t.scale_y, rel=0.05)
    assert (out[: int(t.pad_y)] == 114).all() and (out[-int(t.pad_y) :] == 114).all()
    boxes = np.array([[10, 5, 190, 55], [0, 0, 200, 60]], np.float32)
    np.testing.assert_allclose(t.boxes_to_source(t.boxes_to_input(boxes)), boxes, atol=1e-4)
    # The full image maps to the unpadded content area.
    np.testing.assert_allclose(t.boxes_to_input(boxes[1:])[0], [0, t.pad_y, 64, t.pad_y + 60 * t.scale_y], atol=1e-4)


def test_letterbox_content_is_the_resized_image():
    image = np.zeros((20, 40, 3), np.uint8)
    image[:, 20:] = 200  # right half bright
    out, t = letterbox(image, (40, 40))
    assert t.pad_x == 0 and t.pad_y == 10
    assert out[20, 5, 0] == 0 and out[20, 35, 0] == 200


def test_boxes_to_source_clips():
    _, t = letterbox(np.zeros((10, 10, 3), np.uint8), (20, 20))
    np.testing.assert_allclose(t.boxes_to_source(np.array([[-5, -5, 30, 30]])), [[0, 0, 10, 10]])


def test_resize_stretches():
    out, t = resize(np.zeros((10, 40, 3), np.uint8), (20, 20))
    assert out.shape == (20, 20, 3) and (t.scale_x, t.scale_y) == (0.5, 2.0)
    np.testing.assert_allclose(t.points_to_source(np.array([[10.0, 10.0]])), [[20.0, 5.0]])


def test_normalize_matches_reference_and_reorders_channels(rng):
    images = rng.integers(0, 255, (2, 4, 5, 3), dtype=np.uint8)
    norm = Normalization(mean=(0.1, 0.2, 0.3), std=(0.5, 0.25, 0.2), color="rgb")
    got = normalize(images, norm)
    rgb = images[..., ::-1].astype(np.float64) / 255.0
    ref = ((rgb - np.array(norm.mean)) / np.array(norm.std)).transpose(0, 3, 1, 2)
    assert got.shape == (2, 3, 4, 5) and got.dtype == np.float32 and got.flags.c_contiguous
    np.testing.assert_allclose(got, ref, atol=1e-5)
    bgr = normalize(images[0], Normalization(mean=(0, 0, 0), std=(1, 1, 1), color="bgr"))
    np.testing.assert_allclose(bgr[0, 0], images[0, ..., 0] / 255.0, atol=1e-6)


def test_prepare_batch_mixed_sizes(rng):
    images = [rng.integers(0, 255, s, dtype=np.uint8) for s in [(30, 50, 3), (50, 30, 3)]]
    batch, transforms = prepare_batch(images, (32, 32), Normalization())
    assert batch.shape == (2, 3, 32, 32) and len(transforms) == 2
    assert transforms[0].pad_y > 0 and transforms[1].pad_x > 0


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32), np.zeros((0, 4, 3), np.uint8), "image"]
)
def test_bad_images_are_refused(bad):
    with pytest.raises(ValueError):
        letterbox(bad, (8, 8))


def test_bad_normalization():
    with pytest.raises(ValueError):
        Normalization(color="hsv")
    with pytest.raises(ValueError):
        Normalization(std=(1, 0, 1))
    with pytest.raises(ValueError):
        prepare_batch([], (8, 8), Normalization())


def test_area_resize_is_the_area_average_within_a_grey_level(rng):
    smooth = cv2.GaussianBlur(rng.integers(0, 256, (1080, 1920, 3), dtype=np.uint8), (0, 0), 3)
    for size in ((569, 320), (640, 360), (384, 216)):  # the three networks' inputs from a 1080p camera
        direct = cv2.resize(smooth, size, interpolation=cv2.INTER_AREA)
        ours = area_resize(smooth, size)
        assert ours.shape == direct.shape
        assert np.abs(ours.astype(np.int16) - direct.astype(np.int16)).mean() < 1.0
    # under 2x there is nothing to halve: exactly OpenCV's area resize; growing: bilinear
    np.testing.assert_array_equal(area_resize(smooth, (1200, 700)), cv2.resize(smooth, (1200, 700), interpolation=cv2.INTER_AREA))
    small = smooth[:50, :80]
    np.testing.assert_array_equal(area_resize(small, (160, 100)), cv2.resize(small, (160, 100), interpolation=cv2.INTER_LINEAR))
