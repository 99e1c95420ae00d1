"""3D pose evaluation as in PandaNet's JTA protocol (seed tables 3 and 4).

- Detection: VOC average precision at IoU 0.5 (all-point interpolation).
- 3D pose of each ground-truth person, matched to a detection at IoU >= 0.5 (greedy by score):
  MPJPE in millimetres after aligning the roots (over detected people), and 3DPCK@150 mm, where a
  person no detection matched counts as all joints wrong. Both broken down by camera distance
  (<10, 10-20, 20-30, 30-40, >40 m) and by joint group; the root joint itself is excluded (its
  root-aligned error is zero by construction).
- Absolute root position error (metres) of the camera-frame placement, over detected people.

Ground-truth people without 3D joints, or less visible than ``min_visible_fraction``, are
ignored: a detection on them is neither a true nor a false positive, and they count in no metric.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.annotations import FrameAnnotation, PersonAnnotations
from ..core.boxes import box_iou
from ..core.skeletons import get_skeleton
from ..core.types import Poses3D

__all__ = ["DISTANCE_BINS", "JOINT_GROUPS", "voc_ap", "match_detections", "evaluable", "Pose3DEvaluator"]

DISTANCE_BINS: tuple[tuple[float, float], ...] = ((0, 10), (10, 20), (20, 30), (30, 40), (40, np.inf))
JOINT_GROUPS: dict[str, tuple[str, ...]] = {
    "head": ("head_top", "nose", "left_eye", "right_eye", "left_ear", "right_ear"),
    "neck": ("neck",),
    "spine": ("spine", "chest"),
    "shoulders": ("left_shoulder", "right_shoulder"),
    "elbows": ("left_elbow", "right_elbow"),
    "wrists": ("left_wrist", "right_wrist"),
    "hips": ("left_hip", "right_hip"),
    "knees": ("left_knee", "right_knee"),
    "ankles": ("left_ankle", "right_ankle"),
}


def bin_label(low: float, high: float) -> str:
    return f"<{high:g} m" if low == 0 else (f">{low:g} m" if not np.isfinite(high) else f"{low:g}-{high:g} m")


def voc_ap(scores: np.ndarray, true_positive: np.ndarray, num_gt: int) -> float:
    """VOC (2010+) all-point interpolated average precision; NaN when there is no ground truth."""
    if num_gt == 0:
        return float("nan")
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    tp = np.asarray(true_positive, dtype=bool)[order]
    ctp, cfp = np.cumsum(tp), np.cumsum(~tp)
    recall = np.concatenate([[0.0], ctp / num_gt, [1.0]])
    precision = np.concatenate([[0.0], ctp / np.maximum(ctp + cfp, 1), [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1])
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


def match_detections(
    pred_boxes: np.ndarray, scores: np.ndarray, gt_boxes: np.ndarray, gt_valid: np.ndarray, iou_threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy (by score) one-to-one matching of detections to ground truth.

    Returns ``(pred_status (N,), gt_match (G,))``: status 1 true positive, 0 false positive, -1
    ignored (matched an ignored ground truth); ``gt_match`` the detection index of each ground truth or -1.
    """
    status = np.zeros(len(pred_boxes), dtype=np.int64)
    gt_match = np.full(len(gt_boxes), -1, dtype=np.int64)
    if len(pred_boxes) == 0 or len(gt_boxes) == 0:
        return status, gt_match
    overlaps = box_iou(pred_boxes, gt_boxes)
    for i in np.argsort(-np.asarray(scores), kind="stable"):
        free = gt_valid & (gt_match < 0)
        candidates = np.where(free, overlaps[i], -1.0)
        j = int(np.argmax(candidates))
        if candidates[j] >= iou_threshold:
            gt_match[j] = i
            status[i] = 1
        elif np.any(overlaps[i, ~gt_valid] >= iou_threshold):
            status[i] = -1
    return status, gt_match


def evaluable(persons: PersonAnnotations, min_visible_fraction: float) -> np.ndarray:
    """Ground-truth people that count: complete 3D joints and visible enough (unknown visibility counts)."""
    visible = np.where(np.isnan(persons.visible_fractions), 1.0, persons.visible_fractions)
    return np.all(np.isfinite(persons.joints_3d), axis=(1, 2)) & (visible >= min_visible_fraction)


@dataclass
class Pose3DEvaluator:
    """Accumulates frames with :meth:`add`; :meth:`summary` returns every figure as a flat dict.

    AP ranks every detection given; the pose metrics (recall, MPJPE, 3DPCK, root error) use only
    those scored at least ``operating_threshold`` (the runner's readout threshold), so a caller
    can pass low-threshold detections once and get both.
    """

    skeleton: str = "body22"
    iou_threshold: float = 0.5
    pck_threshold_mm: float = 150.0
    min_visible_fraction: float = 0.1
    operating_threshold: float = 0.0
    _scores: list[np.ndarray] = field(default_factory=list, repr=False)
    _tp: list[np.ndarray] = field(default_factory=list, repr=False)
    _errors: list[np.ndarray] = field(default_factory=list, repr=False)  # (G, K) mm, NaN if undetected
    _distances: list[np.ndarray] = field(default_factory=list, repr=False)
    _root_errors: list[np.ndarray] = field(default_factory=list, repr=False)  # (G,) m, NaN if undetected
    _num_gt: int = 0

    def add(self, annotation: FrameAnnotation, poses: Poses3D) -> None:
        """Score one image's predicted ``poses`` against its ground truth."""
        gt = annotation.persons
        for name, value in (("ground truth", gt.skeleton), ("prediction", poses.skeleton)):
            if value != self.skeleton:
                raise ValueError(f"{name} skeleton {value!r} differs from the evaluator's {self.skeleton!r}")
        root = get_skeleton(self.skeleton).root
        if root is None:
            raise ValueError(f"skeleton {self.skeleton!r} has no root joint to align poses at")
        valid = evaluable(gt, self.min_visible_fraction)
        status, _ = match_detections(poses.boxes, poses.person_scores, gt.boxes, valid, self.iou_threshold)
        keep = status >= 0
        self._scores.append(poses.person_scores[keep])
        self._tp.append(status[keep] == 1)
        self._num_gt += int(valid.sum())
        # Pose metrics at the operating point: only detections the runner would output.
        operating = np.flatnonzero(poses.person_scores >= self.operating_threshold)
        _, gt_match = match_detections(
            poses.boxes[operating], poses.person_scores[operating], gt.boxes, valid, self.iou_threshold
        )
        found_op = gt_match >= 0
        gt_match[found_op] = operating[gt_match[found_op]]  # back to indices into ``poses``

        idx = np.flatnonzero(valid)
        matched = gt_match[idx]
        found = matched >= 0
        gt_rel = gt.joints_3d[idx] - gt.joints_3d[idx, root : root + 1]
        errors = np.full(gt_rel.shape[:2], np.nan)
        pred_rel = poses.joints_relative[matched[found]] - poses.joints_relative[matched[found], root : root + 1]
        errors[found] = np.linalg.norm(pred_rel - gt_rel[found], axis=-1) * 1000.0
        root_errors = np.full(len(idx), np.nan)
        root_errors[found] = np.linalg.norm(poses.joints_camera[matched[found], root] - gt.joints_3d[idx[found], root], axis=-1)
        distances = np.where(
            np.isfinite(gt.distances[idx]), gt.distances[idx], np.linalg.norm(gt.joints_3d[idx, root], axis=-1)
        )
        self._errors.append(errors)
        self._root_errors.append(root_errors)
        self._distances.append(distances)

    def summary(self) -> dict[str, float]:
        """``ap``, ``mpjpe_mm``, ``pck``, ``root_error_m`` (mean) and ``root_error_median_m``, plus
        ``mpjpe_mm/<bin>``, ``pck/<bin>``, ``count/<bin>`` per distance bin and ``mpjpe_mm/<group>``, ``pck/<group>``."""
        skeleton = get_skeleton(self.skeleton)
        k = skeleton.num_joints
        errors = np.concatenate(self._errors) if self._errors else np.zeros((0, k))
        root_errors = np.concatenate(self._root_errors) if self._root_errors else np.zeros(0)
        distances = np.concatenate(self._distances) if self._distances else np.zeros(0)
        scores = np.concatenate(self._scores) if self._scores else np.zeros(0)
        tp = np.concatenate(self._tp) if self._tp else np.zeros(0, bool)
        joints = np.array([j for j in range(k) if j != skeleton.root])

        def mpjpe(rows: np.ndarray, cols: np.ndarray) -> float:
            e = errors[np.ix_(rows, cols)]
            return float(np.nanmean(e)) if np.isfinite(e).any() else float("nan")

        def pck(rows: np.ndarray, cols: np.ndarray) -> float:
            e = errors[np.ix_(rows, cols)]
            return float(np.mean(np.nan_to_num(e, nan=np.inf) < self.pck_threshold_mm)) if e.size else float("nan")

        everyone = np.arange(len(errors))
        found_roots = root_errors[np.isfinite(root_errors)]
        out = {
            "ap": voc_ap(scores, tp, self._num_gt),
            "num_gt": float(self._num_gt),
            "recall": float(np.isfinite(errors[:, 0]).mean()) if len(errors) else float("nan"),
            "mpjpe_mm": mpjpe(everyone, joints),
            "pck": pck(everyone, joints),
            "root_error_m": float(found_roots.mean()) if len(found_roots) else float("nan"),
            "root_error_median_m": float(np.median(found_roots)) if len(found_roots) else float("nan"),
        }
        for low, high in DISTANCE_BINS:
            rows = np.flatnonzero((distances >= low) & (distances < high))
            label = bin_label(low, high)
            out[f"count/{label}"] = float(len(rows))
            out[f"mpjpe_mm/{label}"] = mpjpe(rows, joints)
            out[f"pck/{label}"] = pck(rows, joints)
        for group, names in JOINT_GROUPS.items():
            cols = np.array([skeleton.index(n) for n in names if n in skeleton.joints])
            if len(cols):
                out[f"mpjpe_mm/{group}"] = mpjpe(everyone, cols)
                out[f"pck/{group}"] = pck(everyone, cols)
        return out
