"""Feature crops: sample a person's crop grid from frame-level features (RoIAlign along an affine map).

In ``frame`` input mode the visual encoder runs once on the whole (letterboxed) frame and every
person's head works on a crop of the *features*, taken along the same fixed-aspect affine crop as
the pixel crops of ``crop`` mode (:mod:`.crops`). A RoI is the ``(2, 3)`` affine matrix that maps
heatmap-grid coordinates ``(u, v)`` of the crop to network-input pixels ``(x, y)`` (OpenCV
convention: pixel centres are integers). Each output cell averages ``sampling x sampling`` bilinear
samples spread over the cell (RoIAlign's sampling ratio), so large people do not alias.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .crops import compose_transforms, heatmap_transforms, invert_transforms

__all__ = ["roi_align", "roi_matrices", "sample_grid"]


def sample_grid(size: tuple[int, int], sampling: int) -> Tensor:
    """``(h*s * w*s, 3)`` homogeneous heatmap coordinates of the sub-cell sample points (row-major)."""
    h, w = size
    offsets = (torch.arange(sampling, dtype=torch.float32) + 0.5) / sampling - 0.5
    ys = (torch.arange(h, dtype=torch.float32)[:, None] + offsets[None]).reshape(-1)
    xs = (torch.arange(w, dtype=torch.float32)[:, None] + offsets[None]).reshape(-1)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1), torch.ones(gx.numel())], dim=1)


def roi_align(features: Tensor, rois: Tensor, grid: Tensor, size: tuple[int, int], image_size: tuple[int, int], sampling: int) -> Tensor:
    """Crops ``(B * R, C, h, w)`` of ``features (B, C, Hf, Wf)`` along ``rois (B, R, 2, 3)``.

    ``features`` must cover the ``image_size = (H, W)`` network input centre-aligned (any stride);
    ``grid`` is :func:`sample_grid` of ``(size, sampling)``. Points outside the frame read zeros.
    """
    b, r = rois.shape[0], rois.shape[1]
    h, w = size
    c = features.shape[1]
    height, width = image_size
    points = torch.einsum("pk,brjk->brpj", grid, rois)  # (B, R, h*s*w*s, 2) input pixels
    scale = points.new_tensor([2.0 / width, 2.0 / height])
    offset = points.new_tensor([1.0 / width - 1.0, 1.0 / height - 1.0])
    normalised = (points * scale + offset).reshape(b, r * h * sampling, w * sampling, 2)
    sampled = F.grid_sample(features, normalised, mode="bilinear", padding_mode="zeros", align_corners=False)
    if sampling > 1:
        sampled = F.avg_pool2d(sampled, sampling)
    return sampled.reshape(b, c, r, h, w).transpose(1, 2).reshape(b * r, c, h, w)


def roi_matrices(image_to_crop: np.ndarray, image_to_input: np.ndarray, stride: float) -> np.ndarray:
    """``(N, 2, 3)`` float32 RoIs: heatmap -> crop -> image -> network input, for image->crop ``(N, 2, 3)`` transforms.

    ``image_to_input`` is the ``(2, 3)`` letterbox (or augmentation) map of the frame into the network input.
    """
    heatmap_to_image = invert_transforms(compose_transforms(heatmap_transforms(stride)[None], image_to_crop))
    return compose_transforms(np.asarray(image_to_input, dtype=np.float64)[None], heatmap_to_image).astype(np.float32)
