"""Post-processing of the detector's raw head tensors (numpy, NMS in OpenCV), shared by torch
evaluation and every runtime backend (ONNX Runtime, TensorRT): anchor points, l/t/r/b decoding,
score, threshold, NMS.

The network predicts, at every anchor point of every pyramid level (flattened level by level,
row-major), a class logit, four distances to the box sides in units of the level's stride, an
IoU-quality logit and an embedding. A detection's score is ``sqrt(sigmoid(cls) * sigmoid(iou))``
(the LLA reference), its box ``(x - l s, y - t s, x + r s, y + b s)``, its embedding L2-normalised.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ...core.boxes import nms
from ...core.types import Detections

__all__ = [
    "OUTPUT_NAMES",
    "PostprocessConfig",
    "feature_sizes",
    "anchor_points",
    "decode_boxes",
    "sigmoid",
    "postprocess",
    "embeddings_at_boxes",
]

OUTPUT_NAMES = ("cls_logits", "box_distances", "iou_logits", "embeddings")


@dataclass
class PostprocessConfig:
    """Score threshold, NMS IoU threshold, candidates kept before NMS and detections kept after."""

    score_threshold: float = 0.05
    nms_iou: float = 0.5
    pre_nms_topk: int = 1000
    max_detections: int = 300


def feature_sizes(height: int, width: int, strides: Sequence[int]) -> list[tuple[int, int]]:
    """Feature-map size per level: stride-2 convolutions with "same" padding give ``ceil(size / stride)``."""
    return [(math.ceil(height / s), math.ceil(width / s)) for s in strides]


def anchor_points(height: int, width: int, strides: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """``(points (N, 2), point_strides (N,))`` float32: cell centres ``((i + 0.5) s)``, level by level, row-major."""
    points, point_strides = [], []
    for (h, w), s in zip(feature_sizes(height, width, strides), strides, strict=True):
        ys, xs = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij")
        points.append(np.stack([(xs.ravel() + 0.5) * s, (ys.ravel() + 0.5) * s], axis=1))
        point_strides.append(np.full(h * w, s, dtype=np.float32))
    return np.concatenate(points), np.concatenate(point_strides)


def decode_boxes(points: np.ndarray, strides: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """``(N, 4)`` l/t/r/b in stride units -> ``(N, 4)`` xyxy pixels."""
    d = distances * strides[:, None]
    return np.concatenate([points - d[:, :2], points + d[:, 2:]], axis=1)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    x = np.asarray(x, dtype=np.float32)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(np.float32)


def _as_list(outputs: Mapping[str, np.ndarray] | Sequence[np.ndarray]) -> list[np.ndarray]:
    if isinstance(outputs, Mapping):
        missing = [n for n in OUTPUT_NAMES if n not in outputs]
        if missing:
            raise KeyError(f"detector outputs missing {missing}; got {sorted(outputs)}")
        return [np.asarray(outputs[n]) for n in OUTPUT_NAMES]
    if len(outputs) != len(OUTPUT_NAMES):
        raise ValueError(f"expected {len(OUTPUT_NAMES)} detector outputs {OUTPUT_NAMES}, got {len(outputs)}")
    return [np.asarray(o) for o in outputs]


def postprocess(
    outputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
    points: np.ndarray,
    strides: np.ndarray,
    cfg: PostprocessConfig | None = None,
) -> list[Detections]:
    """Raw batch outputs (named as :data:`OUTPUT_NAMES` or in that order) -> one :class:`Detections`
    per image, boxes in network-input pixels, sorted by score."""
    cfg = cfg or PostprocessConfig()
    cls, box, iou, emb = _as_list(outputs)
    if cls.shape[1] != len(points):
        raise ValueError(f"{cls.shape[1]} predictions per image but {len(points)} anchor points (input size mismatch?)")
    results = []
    for b in range(cls.shape[0]):
        scores = np.sqrt(sigmoid(cls[b, :, 0]) * sigmoid(iou[b, :, 0]))
        keep = np.flatnonzero(scores > cfg.score_threshold)
        if len(keep) > cfg.pre_nms_topk:
            keep = keep[np.argpartition(-scores[keep], cfg.pre_nms_topk)[: cfg.pre_nms_topk]]
        boxes = decode_boxes(points[keep], strides[keep], box[b, keep].astype(np.float32))
        order = nms(boxes, scores[keep], cfg.nms_iou, cfg.max_detections)
        kept = keep[order]
        e = emb[b, kept].astype(np.float32)
        e /= np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
        results.append(Detections(boxes[order], scores[kept], embeddings=e))
    return results


def embeddings_at_boxes(
    outputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
    points: np.ndarray,
    strides: np.ndarray,
    boxes: np.ndarray,
    image_index: int = 0,
) -> np.ndarray:
    """L2-normalised embeddings read at given boxes (network-input pixels), for JDE's TPR@FAR on
    ground-truth boxes: for each box, the anchor point strictly inside it whose predicted box
    overlaps it most (the nearest point to its centre when none lies inside)."""
    from ...core.boxes import box_iou

    _, box, _, emb = _as_list(outputs)
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    pred = decode_boxes(points, strides, box[image_index].astype(np.float32))
    x, y = points[None, :, 0], points[None, :, 1]
    inside = (x > boxes[:, None, 0]) & (x < boxes[:, None, 2]) & (y > boxes[:, None, 1]) & (y < boxes[:, None, 3])
    iou = np.where(inside, box_iou(boxes, pred), -1.0)
    centre = (boxes[:, None, :2] + boxes[:, None, 2:]) / 2
    nearest = np.argmin(((points[None] - centre) ** 2).sum(-1), axis=1)
    pick = np.where(inside.any(1), iou.argmax(1), nearest)
    e = emb[image_index, pick].astype(np.float32)
    return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
