"""Feature crops along affine RoIs: the sampled grid is exactly the crop's heatmap grid."""

from __future__ import annotations

import numpy as np
import torch

from crowd_perception.models.pose2d.crops import (
    compose_transforms,
    crop_transforms,
    heatmap_transforms,
    invert_transforms,
    letterbox_frame,
    transform_points,
)
from crowd_perception.models.pose2d.roi import roi_align, roi_matrices, sample_grid


def _ramp(height: int, width: int) -> torch.Tensor:
    """A 2-channel linear "feature map": channel 0 = x, channel 1 = y (pixel centres, OpenCV convention)."""
    ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float64), torch.arange(width, dtype=torch.float64), indexing="ij")
    return torch.stack([xs, ys])[None]


def test_roi_align_samples_each_heatmap_cell_at_its_image_position():
    height, width, size, sampling = 96, 160, (8, 6), 2
    to_crop = crop_transforms(np.array([[70.0, 50.0], [100.0, 40.0]]), np.array([[30.0, 40.0], [21.0, 28.0]]), (32, 24), [0.0, 20.0])
    rois = roi_matrices(to_crop, np.eye(2, 3), 4)
    crops = roi_align(_ramp(height, width), torch.from_numpy(rois[None]).double(), sample_grid(size, sampling).double(), size, (height, width), sampling)
    assert crops.shape == (2, 2, 8, 6)
    # where each heatmap cell lies in the image, by the crop module's own geometry
    u, v = np.meshgrid(np.arange(6.0), np.arange(8.0))
    cells = np.stack([u, v], axis=-1).reshape(1, -1, 2).repeat(2, axis=0)
    heat_to_image = invert_transforms(compose_transforms(heatmap_transforms(4)[None], to_crop))
    expected = transform_points(cells, heat_to_image).reshape(2, 8, 6, 2)
    # bilinear sampling of a linear ramp is exact away from the border, and sub-samples average to the centre
    np.testing.assert_allclose(crops.permute(0, 2, 3, 1).numpy(), expected, atol=1e-6)


def test_roi_align_of_a_strided_map_matches_full_resolution():
    """Features at stride 4 (pooled, centre-aligned) sample the same place as the full-resolution map."""
    height, width = 64, 96
    full = _ramp(height, width)
    strided = torch.nn.functional.avg_pool2d(full, 4)
    to_crop = crop_transforms(np.array([[48.0, 30.0]]), np.array([[24.0, 32.0]]), (32, 24))
    rois = torch.from_numpy(roi_matrices(to_crop, np.eye(2, 3), 4)[None]).double()
    grid = sample_grid((8, 6), 1).double()
    a = roi_align(full, rois, grid, (8, 6), (height, width), 1)
    b = roi_align(strided, rois, grid, (8, 6), (height, width), 1)
    torch.testing.assert_close(a, b)


def test_outside_the_frame_reads_zero():
    to_crop = crop_transforms(np.array([[-500.0, -500.0]]), np.array([[30.0, 40.0]]), (32, 24))
    rois = torch.from_numpy(roi_matrices(to_crop, np.eye(2, 3), 4)[None])
    out = roi_align(torch.ones(1, 3, 64, 64), rois, sample_grid((8, 6), 2), (8, 6), (64, 64), 2)
    assert float(out.abs().max()) == 0.0


def test_letterbox_frame_maps_points_exactly():
    image = np.zeros((270, 480, 3), np.uint8)
    image[100:110, 200:210] = 255  # a 10x10 white square, pixel centres 100..109 / 200..209
    canvas, matrix = letterbox_frame(image, (384, 640))
    assert canvas.shape == (384, 640, 3) and canvas[0, 0, 0] == 114  # grey padding above the image
    centre = transform_points(np.array([[[204.5, 104.5]]]), matrix[None])[0, 0]
    ys, xs = np.nonzero(canvas[..., 0] > 200)
    np.testing.assert_allclose([xs.mean(), ys.mean()], centre, atol=0.5)
