"""2D pose metrics: OKS AP (pycocotools) with per-skeleton sigmas, CrowdPose crowd-index splits,
PCK on occluded joints and the accuracy of the predicted occlusion states.

Ground truth is a :class:`FrameAnnotation` per image (any skeleton that contains the evaluation
skeleton's joints); predictions are a :class:`Poses2D` per image. COCO visibility flags come from
the joint states: ``VISIBLE`` -> 2, occluded (by person / object / self / unknown cause) -> 1,
unknown or outside the image -> 0. The GT ``area`` (OKS scale) is the amodal box area, since the
synthetic and most crowd datasets have no segmentation area for every person.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.annotations import FrameAnnotation
from ..core.skeletons import convert_joint_states, convert_keypoints, get_skeleton
from ..core.types import JointState, Poses2D

__all__ = [
    "coco_visibility",
    "crowd_index",
    "crowd_level",
    "oks_ap",
    "pck",
    "occlusion_state_accuracy",
    "joint_spread",
    "spread_ratios",
    "left_right_agreement",
]

_FAR = -1e6  # coordinate of joints a prediction does not have: never within any OKS tolerance
CROWD_LEVELS = {"easy": (0.0, 0.1), "medium": (0.1, 0.8), "hard": (0.8, float("inf"))}


def coco_visibility(states: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """COCO ``v`` flags (0, 1, 2) from ``JointState`` values; joints without coordinates get 0."""
    states = np.asarray(states)
    v = np.where(states == JointState.VISIBLE, 2, np.where(JointState.is_occluded(states), 1, 0))
    return np.where(np.isfinite(keypoints).all(axis=-1), v, 0).astype(np.int64)


def _gt_in(frame: FrameAnnotation, skeleton: str) -> tuple[np.ndarray, np.ndarray]:
    """``(keypoints (N, K, 2), v (N, K))`` of the frame's persons in ``skeleton``'s order."""
    persons = frame.persons
    kpts = convert_keypoints(persons.keypoints, persons.skeleton, skeleton)
    states = convert_joint_states(persons.keypoint_states, persons.skeleton, skeleton)
    return kpts, coco_visibility(states.astype(np.int64), kpts)


def crowd_index(frame: FrameAnnotation, skeleton: str = "coco17") -> float:
    """CrowdPose's crowd index ``(1/n) sum_i N_b(i) / N_a(i)``.

    ``N_a(i)``: labelled joints of person ``i``; ``N_b(i)``: labelled joints of the *other* people
    inside person ``i``'s box. People without labelled joints are skipped (index 0 if none).
    """
    kpts, v = _gt_in(frame, skeleton)
    boxes = frame.persons.boxes
    ratios = []
    for i in range(len(kpts)):
        n_a = int((v[i] > 0).sum())
        if n_a == 0:
            continue
        others = np.delete(np.arange(len(kpts)), i)
        pts = kpts[others][v[others] > 0]
        x1, y1, x2, y2 = boxes[i]
        n_b = int(((pts[:, 0] >= x1) & (pts[:, 0] <= x2) & (pts[:, 1] >= y1) & (pts[:, 1] <= y2)).sum())
        ratios.append(n_b / n_a)
    return float(np.mean(ratios)) if ratios else 0.0


def crowd_level(index: float) -> str:
    """``easy`` (< 0.1), ``medium`` (0.1-0.8) or ``hard`` (> 0.8), CrowdPose's split of its test set."""
    for name, (lo, hi) in CROWD_LEVELS.items():
        if lo <= index < hi:
            return name
    raise ValueError(f"crowd index must be >= 0, got {index}")


def oks_ap(
    frames: Sequence[FrameAnnotation],
    predictions: Sequence[Poses2D],
    skeleton: str = "coco17",
    max_detections: int = 100,
) -> dict[str, float]:
    """COCO keypoint AP / AP50 / AP75 / AR over ``frames`` with ``skeleton``'s OKS sigmas (pycocotools).

    ``max_detections`` per image replaces COCO's 20, which crowded images exceed. Returns NaN
    metrics when no person has a labelled joint.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if len(frames) != len(predictions):
        raise ValueError(f"{len(frames)} frames but {len(predictions)} prediction sets")
    skel = get_skeleton(skeleton)
    if skel.sigmas is None:
        raise ValueError(f"skeleton {skeleton} has no OKS sigmas")
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for image_id, (frame, pred) in enumerate(zip(frames, predictions, strict=True), start=1):
        images.append({"id": image_id, "width": frame.width, "height": frame.height})
        kpts, v = _gt_in(frame, skeleton)
        for box, k, vis in zip(frame.persons.boxes, kpts, v, strict=True):
            w, h = float(box[2] - box[0]), float(box[3] - box[1])
            flat = np.concatenate([np.nan_to_num(k), vis[:, None]], axis=1).reshape(-1)
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": 1, "iscrowd": 0,
                "bbox": [float(box[0]), float(box[1]), w, h], "area": max(w * h, 1.0),
                "keypoints": flat.tolist(), "num_keypoints": int((vis > 0).sum()),
            })
        pk = convert_keypoints(pred.keypoints, pred.skeleton, skeleton)
        ps = convert_keypoints(pred.scores[..., None], pred.skeleton, skeleton, fill=0)[..., 0]
        for k, s, score in zip(pk, ps, pred.person_scores, strict=True):
            if not np.isfinite(k).any():
                continue
            # A joint the model's skeleton lacks (e.g. CrowdPose's neck from a COCO model) is a miss.
            k = np.where(np.isfinite(k), k, _FAR)
            flat = np.concatenate([k, s[:, None]], axis=1).reshape(-1)
            results.append({"image_id": image_id, "category_id": 1, "keypoints": flat.tolist(), "score": float(score)})
    if not any(a["num_keypoints"] > 0 for a in annotations):
        return {"AP": float("nan"), "AP50": float("nan"), "AP75": float("nan"), "AR": float("nan")}
    if not results:
        return {"AP": 0.0, "AP50": 0.0, "AP75": 0.0, "AR": 0.0}
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "person"}]}
        gt.createIndex()
        dt = gt.loadRes(results)
        ev = COCOeval(gt, dt, "keypoints")
        ev.params.kpt_oks_sigmas = np.asarray(skel.sigmas, dtype=np.float64)
        ev.params.maxDets = [max_detections]
        ev.evaluate()
        ev.accumulate()
    precision = ev.eval["precision"][:, :, 0, 0, -1]  # (T, R) for area "all", the only maxDets
    recall = ev.eval["recall"][:, 0, 0, -1]

    def mean(values: np.ndarray) -> float:
        values = values[values > -1]
        return float(values.mean()) if values.size else float("nan")

    return {"AP": mean(precision), "AP50": mean(precision[0]), "AP75": mean(precision[5]), "AR": mean(recall)}


def pck(
    gt_keypoints: np.ndarray, pred_keypoints: np.ndarray, boxes: np.ndarray, joint_mask: np.ndarray, alpha: float = 0.1
) -> float:
    """Fraction of the joints selected by ``joint_mask (N, K)`` predicted within ``alpha * max(box w, h)``.

    Poses are paired row by row (top-down estimation from ground-truth boxes); NaN when no joint
    is selected. With ``joint_mask`` = occluded joints this is the "PCK on occluded joints".
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    size = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    dist = np.linalg.norm(np.asarray(pred_keypoints, np.float64) - np.asarray(gt_keypoints, np.float64), axis=-1)
    mask = np.asarray(joint_mask, dtype=bool) & np.isfinite(dist)
    if not mask.any():
        return float("nan")
    return float((dist <= alpha * size[:, None])[mask].mean())


def occlusion_state_accuracy(gt_states: np.ndarray, pred_states: np.ndarray) -> float:
    """Accuracy of visible-vs-occluded predictions over joints whose ground truth is known (NaN if none)."""
    gt_states, pred_states = np.asarray(gt_states), np.asarray(pred_states)
    gt_occ = JointState.is_occluded(gt_states)
    known = gt_occ | (gt_states == JointState.VISIBLE)
    if not known.any():
        return float("nan")
    return float((JointState.is_occluded(pred_states) == gt_occ)[known].mean())


def joint_spread(keypoints: np.ndarray, boxes: np.ndarray, joint_mask: np.ndarray) -> np.ndarray:
    """``(N, 2)`` per-person standard deviation of the selected joints' x and y, as fractions of the box width and height.

    The horizontal and vertical extent of a skeleton relative to its box: a pose model that collapses
    its joints onto a vertical line has an x spread near 0. NaN for people with fewer than 2 selected joints.
    """
    k = np.asarray(keypoints, np.float64)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    mask = np.asarray(joint_mask, bool) & np.isfinite(k).all(axis=-1)
    pts = np.where(mask[..., None], k, np.nan)
    out = np.full((len(k), 2), np.nan)
    enough = mask.sum(axis=1) >= 2
    if enough.any():
        out[enough] = np.nanstd(pts[enough], axis=1)
    size = np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1)
    return out / np.maximum(size, 1e-9)


def spread_ratios(gt_keypoints: np.ndarray, pred_keypoints: np.ndarray, boxes: np.ndarray, joint_mask: np.ndarray) -> np.ndarray:
    """``(2,)`` predicted / ground-truth joint spread in x and y: ratio of the medians over people of :func:`joint_spread`
    (same joints for both; 1 = as spread out as the truth). NaN if no person has 2 selected joints."""
    gt = joint_spread(gt_keypoints, boxes, joint_mask)
    pred = joint_spread(pred_keypoints, boxes, joint_mask)
    ok = np.isfinite(gt).all(axis=1) & np.isfinite(pred).all(axis=1)
    if not ok.any():
        return np.full(2, np.nan)
    return np.median(pred[ok], axis=0) / np.maximum(np.median(gt[ok], axis=0), 1e-12)


def left_right_agreement(
    gt_keypoints: np.ndarray, pred_keypoints: np.ndarray, boxes: np.ndarray, joint_mask: np.ndarray, skeleton: str, min_gap: float = 0.1
) -> tuple[float, int]:
    """``(fraction, count)``: of the left/right pairs whose true joints are at least ``min_gap`` box widths apart
    horizontally (both selected), the fraction whose predicted left joint lies on the same side of the right one.

    A model that cannot tell left from right scores about 0.5 (or, if it stacks both joints on one
    point, far below it). Pairs are the skeleton's ``flip_pairs``. NaN and 0 when no pair qualifies.
    """
    gt, pred = np.asarray(gt_keypoints, np.float64), np.asarray(pred_keypoints, np.float64)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    width = np.maximum(boxes[:, 2] - boxes[:, 0], 1e-9)
    mask = np.asarray(joint_mask, bool)
    agree = []
    for left, right in get_skeleton(skeleton).flip_pairs:
        gap = (gt[:, left, 0] - gt[:, right, 0]) / width
        ok = mask[:, left] & mask[:, right] & (np.abs(gap) >= min_gap) & np.isfinite(pred[:, [left, right], 0]).all(axis=1)
        agree.append(np.sign(pred[ok, left, 0] - pred[ok, right, 0]) == np.sign(gap[ok]))
    hits = np.concatenate(agree) if agree else np.zeros(0, bool)
    return (float(hits.mean()) if len(hits) else float("nan")), len(hits)
