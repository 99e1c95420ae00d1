"""Vectorised box geometry in numpy: format conversion, IoU / GIoU / IoA, clipping and NMS.

All functions take ``(..., 4)`` float arrays. ``xyxy`` is the internal format (x1, y1, x2, y2 in
pixels, x2 > x1 for a non-empty box); ``xywh`` is COCO / CrowdHuman / MOTChallenge; ``cxcyah``
is the tracker's Kalman state (centre, aspect = w / h, height).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "xywh_to_xyxy",
    "xyxy_to_xywh",
    "xyxy_to_cxcyah",
    "cxcyah_to_xyxy",
    "box_area",
    "clip_boxes",
    "box_iou",
    "box_ioa",
    "paired_iou",
    "paired_giou",
    "nms",
]

_EPS = 1e-9


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes)
    if not np.issubdtype(boxes.dtype, np.floating):
        boxes = boxes.astype(np.float64)
    return np.concatenate([boxes[..., :2], boxes[..., :2] + boxes[..., 2:4]], axis=-1)


def xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes)
    return np.concatenate([boxes[..., :2], boxes[..., 2:4] - boxes[..., :2]], axis=-1)


# The small kernels below work on column pairs and use ``np.maximum(x, 0)`` rather than
# ``np.clip(x, 0, None)`` and ``np.stack``: the tracker calls them on a few boxes every frame, where
# numpy's per-call overhead, not the arithmetic, is the cost (about 4x less for ``maximum``).


def xyxy_to_cxcyah(boxes: np.ndarray) -> np.ndarray:
    """(x1, y1, x2, y2) -> (cx, cy, w / h, h)."""
    boxes = np.asarray(boxes)
    h = boxes[..., 3:4] - boxes[..., 1:2]
    aspect = (boxes[..., 2:3] - boxes[..., 0:1]) / np.maximum(h, _EPS)
    return np.concatenate([(boxes[..., :2] + boxes[..., 2:4]) / 2, aspect, h], axis=-1)


def cxcyah_to_xyxy(state: np.ndarray) -> np.ndarray:
    """(cx, cy, w / h, h) -> (x1, y1, x2, y2)."""
    state = np.asarray(state)
    centre, h = state[..., :2], state[..., 3:4]
    half = np.concatenate([state[..., 2:3] * h, h], axis=-1) / 2
    return np.concatenate([centre - half, centre + half], axis=-1)


def box_area(boxes: np.ndarray) -> np.ndarray:
    """Area of ``xyxy`` boxes; degenerate boxes have area 0."""
    boxes = np.asarray(boxes)
    wh = np.maximum(boxes[..., 2:4] - boxes[..., :2], 0.0)
    area: np.ndarray = wh[..., 0] * wh[..., 1]
    return area


def clip_boxes(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    """Clip ``xyxy`` boxes to the image ``[0, width] x [0, height]``."""
    boxes = np.array(boxes, copy=True)
    boxes[..., 0::2] = np.clip(boxes[..., 0::2], 0, width)
    boxes[..., 1::2] = np.clip(boxes[..., 1::2], 0, height)
    return boxes


def _intersection_union(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intersection and union areas of two broadcastable ``(..., 4)`` float arrays (the one IoU kernel)."""
    wh = np.maximum(np.minimum(a[..., 2:4], b[..., 2:4]) - np.maximum(a[..., :2], b[..., :2]), 0.0)
    inter = wh[..., 0] * wh[..., 1]
    return inter, box_area(a) + box_area(b) - inter


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` where ``den > 0``, else 0 (an empty box overlaps nothing)."""
    return np.where(den > 0, num / np.maximum(den, _EPS), 0.0)


def _pairwise(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(N, 1, 4)`` and ``(1, M, 4)`` float64 views of two box lists, so the kernels broadcast to ``(N, M)``."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    return a[:, None, :], b[None, :, :]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``(N, 4)`` and ``(M, 4)`` ``xyxy`` boxes -> ``(N, M)`` in [0, 1]."""
    return paired_iou(*_pairwise(a, b))


def box_ioa(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over the area of ``a`` (used for ignore regions) -> ``(N, M)``."""
    a, b = _pairwise(a, b)
    inter, _ = _intersection_union(a, b)
    return _ratio(inter, box_area(a))


def paired_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise IoU of two broadcastable ``(..., 4)`` arrays."""
    inter, union = _intersection_union(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    return _ratio(inter, union)


def paired_giou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise generalised IoU (Rezatofighi et al.) in [-1, 1]."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    inter, union = _intersection_union(a, b)
    hull = box_area(np.concatenate([np.minimum(a[..., :2], b[..., :2]), np.maximum(a[..., 2:4], b[..., 2:4])], -1))
    giou: np.ndarray = _ratio(inter, union) - _ratio(hull - union, hull)
    return giou


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, max_detections: int | None = None) -> np.ndarray:
    """Greedy non-maximum suppression.

    Returns the indices of the kept boxes, highest score first (stable for equal scores). A box
    is suppressed when its IoU with an already kept, higher-scoring box is strictly above
    ``iou_threshold``. Overlaps are computed only between each kept box and the boxes after it,
    never as a full matrix, so a crowded frame (~1000 candidates) costs a few milliseconds.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(boxes) != len(scores):
        raise ValueError(f"{len(boxes)} boxes but {len(scores)} scores")
    order = np.argsort(-scores, kind="stable")
    # one contiguous array per coordinate: each kept box then costs a few operations on scalars and
    # 1-D slices (the same arithmetic as _intersection_union, without its per-call overhead)
    x1, y1, x2, y2 = np.ascontiguousarray(boxes[order].T)
    area = np.maximum(x2 - x1, 0.0) * np.maximum(y2 - y1, 0.0)
    suppressed = np.zeros(len(order), dtype=bool)
    keep: list[int] = []
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(i)
        if max_detections is not None and len(keep) >= max_detections:
            break
        rest = slice(i + 1, None)
        w = np.maximum(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0.0)
        inter = w * np.maximum(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0.0)
        union = area[i] + area[rest] - inter
        suppressed[rest] |= inter > iou_threshold * np.where(union > 0, union, np.inf)
    return order[np.asarray(keep, dtype=np.int64)]
