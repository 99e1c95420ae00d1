"""Numpy readout of raw PandaNet outputs, shared by torch evaluation and every runtime backend.

Score threshold (compared in logit space so that only survivors are decoded), top-k, NMS on the
decoded boxes, then the 2D pose (decoded from anchor coordinates) and the normalised 3D pose of
each kept anchor. The cost is dominated by the threshold over all anchors. NMS is the greedy
algorithm of ``core.boxes.nms`` (same result) but computes overlaps only between each kept box
and the lower-scored candidates, ``O(kept x candidates)`` instead of the full
``candidates x candidates`` matrix, so a crowd of 80 (a few hundred candidates) stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.boxes import nms
from .targets import decode_boxes, decode_pose2d

__all__ = ["PostprocessConfig", "Readout", "postprocess"]


@dataclass(frozen=True)
class PostprocessConfig:
    score_threshold: float = 0.4
    nms_iou: float = 0.5
    pre_nms_top_k: int = 1000
    max_detections: int = 200

    def __post_init__(self) -> None:
        if not 0.0 <= self.score_threshold < 1.0:  # 0: keep everything (an evaluation setting); NaN fails
            raise ValueError(f"score_threshold must be in [0, 1), got {self.score_threshold}")


@dataclass
class Readout:
    """Kept people, in network-input pixels: boxes ``(N, 4)``, scores ``(N,)``, keypoints ``(N, K, 2)``,
    poses ``(N, K, 3)`` root-relative with bone-length sum 1."""

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray
    poses: np.ndarray

    def __len__(self) -> int:
        return len(self.boxes)


def postprocess(
    logits: np.ndarray,
    box_deltas: np.ndarray,
    pose2d: np.ndarray,
    pose3d: np.ndarray,
    anchors: np.ndarray,
    config: PostprocessConfig = PostprocessConfig(),
) -> Readout:
    """Readout of one image from ``(M,)`` logits, ``(M, 4)`` deltas, ``(M, K, 2)`` and ``(M, K, 3)`` poses."""
    logits = np.asarray(logits).reshape(-1)
    if not (len(box_deltas) == len(pose2d) == len(pose3d) == len(anchors) == len(logits)):
        raise ValueError("outputs and anchors disagree on the number of anchors")
    threshold = (np.log(config.score_threshold / (1.0 - config.score_threshold)) if config.score_threshold > 0
                 else -np.inf)  # every finite logit
    index = np.flatnonzero(logits > threshold)
    if len(index) > config.pre_nms_top_k:
        index = index[np.argpartition(-logits[index], config.pre_nms_top_k)[: config.pre_nms_top_k]]
    scores = 1.0 / (1.0 + np.exp(-logits[index].astype(np.float64)))
    kept_anchors = np.asarray(anchors, dtype=np.float64)[index]
    boxes = decode_boxes(np.asarray(box_deltas[index], dtype=np.float64), kept_anchors)
    keep = nms(boxes, scores, config.nms_iou, config.max_detections)
    index = index[keep]
    return Readout(
        boxes=boxes[keep].astype(np.float32),
        scores=scores[keep].astype(np.float32),
        keypoints=decode_pose2d(np.asarray(pose2d[index], dtype=np.float64), kept_anchors[keep]).astype(np.float32),
        poses=np.asarray(pose3d[index], dtype=np.float32),
    )
