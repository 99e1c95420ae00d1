"""Top-down crops: person box -> fixed-aspect affine transform -> batched warps, and the way back.

Coordinate convention (the OpenCV one): a pixel's centre has integer coordinates, so pixel
``(i, j)`` covers ``[i - 0.5, i + 0.5] x [j - 0.5, j + 0.5]``. Keypoints, boxes and crops all use it,
which makes ``cv2.warpAffine`` with the forward matrix and :func:`transform_points` with the same
matrix agree exactly, and the inverse matrix maps crop or heatmap coordinates back to the image.

A heatmap of stride ``r`` over a crop is centre-aligned with it: heatmap pixel ``u`` covers crop
pixels ``[u r, (u + 1) r)``, i.e. crop ``x = (u + 0.5) r - 0.5``. With this convention a horizontal
flip of the crop is exactly a horizontal flip of its heatmap (no half-pixel shift).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import ArrayLike

from ...runtime.preprocess import area_resize

__all__ = [
    "boxes_to_center_size",
    "crop_transforms",
    "invert_transforms",
    "compose_transforms",
    "transform_points",
    "heatmap_transforms",
    "warp_crops",
    "letterbox_frame",
    "PAD_VALUE",
]

PAD_VALUE = 114  # letterbox grey (the runtime's letterbox uses the same)


def boxes_to_center_size(boxes_xyxy: np.ndarray, aspect: float, padding: float = 1.25) -> tuple[np.ndarray, np.ndarray]:
    """Centres ``(N, 2)`` and sizes ``(N, 2)`` (w, h) of boxes grown to ``aspect`` = w / h, then by ``padding``.

    The shorter side is extended (never cropped) so the whole box stays inside the crop; the
    padding leaves context around the person as in SimpleBaseline / HRNet / RSGNet.
    """
    boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
    if not np.isfinite(boxes).all():
        raise ValueError("boxes contain NaN or inf")
    if aspect <= 0 or padding <= 0:
        raise ValueError(f"aspect and padding must be positive, got {aspect}, {padding}")
    centers = (boxes[:, :2] + boxes[:, 2:]) / 2
    w = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    h = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    h = np.maximum(h, w / aspect)
    w = h * aspect
    return centers, np.stack([w, h], axis=1) * padding


def crop_transforms(
    centers: np.ndarray,
    sizes: np.ndarray,
    out_size: tuple[int, int],
    rotations_deg: ArrayLike | None = None,
    flips: ArrayLike | None = None,
) -> np.ndarray:
    """``(N, 2, 3)`` affine matrices mapping image coordinates to crop coordinates.

    The image rectangle of ``sizes`` (w, h) around ``centers`` maps onto the whole ``out_size``
    (height, width) crop; ``sizes`` must have the crop's aspect (see :func:`boxes_to_center_size`).
    ``rotations_deg`` rotates the content counter-clockwise about the centre and ``flips``
    mirrors it horizontally (training augmentation).
    """
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    n = len(centers)
    out_h, out_w = out_size
    scale = out_w / sizes[:, 0]
    theta = np.deg2rad(np.zeros(n) if rotations_deg is None else np.asarray(rotations_deg, dtype=np.float64))
    flip = np.ones(n) if flips is None else np.where(np.asarray(flips, dtype=bool), -1.0, 1.0)
    cos, sin = np.cos(theta) * scale, np.sin(theta) * scale
    linear = np.empty((n, 2, 2))
    linear[:, 0, 0], linear[:, 0, 1] = flip * cos, flip * sin
    linear[:, 1, 0], linear[:, 1, 1] = -sin, cos
    crop_center = np.array([(out_w - 1) / 2, (out_h - 1) / 2])
    translation = crop_center[None] - np.einsum("nij,nj->ni", linear, centers)
    return np.concatenate([linear, translation[:, :, None]], axis=2)


def invert_transforms(transforms: np.ndarray) -> np.ndarray:
    """Inverse of each ``(N, 2, 3)`` affine matrix."""
    transforms = np.asarray(transforms, dtype=np.float64)
    linear_inv = np.linalg.inv(transforms[:, :, :2])
    return np.concatenate([linear_inv, -np.einsum("nij,nj->ni", linear_inv, transforms[:, :, 2])[:, :, None]], axis=2)


def compose_transforms(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """``outer ∘ inner`` for ``(N, 2, 3)`` (or broadcastable ``(2, 3)``) affine matrices."""
    outer, inner = np.asarray(outer, dtype=np.float64), np.asarray(inner, dtype=np.float64)
    linear = outer[..., :2] @ inner[..., :2]
    translation = (outer[..., :2] @ inner[..., 2:])[..., 0] + outer[..., 2]
    return np.concatenate([linear, translation[..., None]], axis=-1)


def transform_points(points: np.ndarray, transforms: np.ndarray) -> np.ndarray:
    """Apply per-row affine ``transforms (N, 2, 3)`` to ``points (N, K, 2)``; NaN stays NaN."""
    points = np.asarray(points, dtype=np.float64)
    transforms = np.asarray(transforms, dtype=np.float64)
    return np.einsum("nij,nkj->nki", transforms[:, :, :2], points) + transforms[:, None, :, 2]


def heatmap_transforms(stride: float) -> np.ndarray:
    """``(2, 3)`` affine map from crop to heatmap coordinates for a centre-aligned heatmap of ``stride``."""
    return np.array([[1 / stride, 0, 0.5 / stride - 0.5], [0, 1 / stride, 0.5 / stride - 0.5]])


def warp_crops(
    image: np.ndarray,
    transforms: np.ndarray,
    out_size: tuple[int, int],
    interpolation: int = cv2.INTER_LINEAR,
    border_value: float | tuple[float, ...] = 0,
) -> np.ndarray:
    """Warp ``image`` (``(H, W)`` or ``(H, W, C)``) once per transform -> ``(N, out_h, out_w[, C])``.

    Use ``cv2.INTER_NEAREST`` for label images (instance maps). Pixels outside the image take
    ``border_value``.
    """
    if image.ndim not in (2, 3):
        raise ValueError(f"expected an (H, W) or (H, W, C) image, got shape {image.shape}")
    out_h, out_w = out_size
    transforms = np.asarray(transforms, dtype=np.float64).reshape(-1, 2, 3)
    crops = np.empty((len(transforms), out_h, out_w, *image.shape[2:]), dtype=image.dtype)
    for i, matrix in enumerate(transforms):
        crops[i] = cv2.warpAffine(
            image, matrix, (out_w, out_h), flags=interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=border_value
        ).reshape(crops.shape[1:])
    return crops


def letterbox_frame(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``image`` resized (area-averaged when shrinking) to fit ``size = (H, W)``, centred on a grey canvas.

    Returns the canvas and the exact ``(2, 3)`` image->canvas map in the pixel-centre convention:
    ``x' + 0.5 = (x + 0.5) * scale_x + pad_x`` (integer pads; per-axis scales of the rounded size).
    """
    (h, w), (out_h, out_w) = image.shape[:2], size
    scale = min(out_h / h, out_w / w)
    new_w, new_h = min(max(round(w * scale), 1), out_w), min(max(round(h * scale), 1), out_h)
    pad_x, pad_y = (out_w - new_w) // 2, (out_h - new_h) // 2
    canvas = np.full((out_h, out_w, *image.shape[2:]), PAD_VALUE, dtype=image.dtype)
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = area_resize(image, (new_w, new_h))
    sx, sy = new_w / w, new_h / h
    return canvas, np.array([[sx, 0.0, pad_x + 0.5 * sx - 0.5], [0.0, sy, pad_y + 0.5 * sy - 0.5]])
