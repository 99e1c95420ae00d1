"""Benchmarks of an :class:`OccludedPoseEstimator` on annotated frames (ground-truth boxes, top-down).

* :func:`evaluate_frames` - OKS AP overall, per crowd density (the frame's ``sequence``), per
  occlusion level of the person (1 - visible fraction), per CrowdPose crowd-index level, PCK on
  occluded joints and accuracy of the predicted occlusion states;
* :func:`occlusion_table` - the seed's table: AP of nearly unoccluded people after hiding 0-70 %
  of their body parts with the curriculum's occluder (:func:`~.curriculum.occlude_parts`);
* :func:`latency_vs_people` - wall time of one ``estimate`` call for 1, 10, 30, 60, 80 people.

Only people with an amodal box at least ``min_height`` pixels tall are evaluated (smaller ones are
removed from both ground truth and predictions), since a 17-joint pose of a 20-pixel person is
not meaningful.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from ...core.annotations import FrameAnnotation
from ...core.skeletons import convert_joint_states, convert_keypoints
from ...core.types import JointState, Poses2D
from ...eval.pose2d import (
    coco_visibility,
    crowd_index,
    crowd_level,
    left_right_agreement,
    occlusion_state_accuracy,
    oks_ap,
    pck,
    spread_ratios,
)
from .curriculum import occlude_parts
from .runner import OccludedPoseEstimator

__all__ = [
    "OCCLUSION_BINS",
    "MeanPoseEstimator",
    "blazepose_trunk_weights",
    "evaluate_frames",
    "occlusion_table",
    "latency_vs_people",
]

OCCLUSION_BINS = {"0-20%": (0.0, 0.2), "20-50%": (0.2, 0.5), "50-80%": (0.5, 0.8), ">80%": (0.8, 1.01)}


def _select(frame: FrameAnnotation, keep: np.ndarray) -> FrameAnnotation:
    return replace(frame, persons=frame.persons.select(keep), instance_map=None)


def evaluable(frame: FrameAnnotation, min_height: float) -> np.ndarray:
    """``(N,)`` bool: people with a finite box at least ``min_height`` tall (the ones the metrics count)."""
    boxes = frame.persons.boxes
    return np.isfinite(boxes).all(axis=1) & (boxes[:, 3] - boxes[:, 1] >= min_height)


def _density(frame: FrameAnnotation) -> str:
    """The crowd-density group of a frame: its sequence name without the trailing index (``bench_dense_001`` -> ``bench_dense``)."""
    return re.sub(r"_\d+$", "", frame.sequence) or "all"


def evaluate_frames(
    estimator: OccludedPoseEstimator,
    frames: Iterable[tuple[np.ndarray, FrameAnnotation]],
    skeleton: str = "coco17",
    min_height: float = 32.0,
) -> dict[str, dict[str, float]]:
    """Metrics ``{group: {metric: value}}`` with groups ``all``, ``density/<seq>``, ``occlusion/<bin>``, ``crowd/<level>``."""
    gts: list[FrameAnnotation] = []
    preds: list[Poses2D] = []
    for image, frame in frames:
        gt = _select(frame, evaluable(frame, min_height))
        gts.append(gt)
        preds.append(estimator.estimate(image, gt.persons.boxes))
    results = {"all": _metrics(gts, preds, skeleton)}
    groups: dict[str, list[int]] = {}
    for i, f in enumerate(gts):
        groups.setdefault(_density(f), []).append(i)
    # Sparse to dense: ordered by evaluated people per frame.
    for density, idx in sorted(groups.items(), key=lambda g: np.mean([len(gts[i].persons) for i in g[1]])):
        results[f"density/{density}"] = _metrics([gts[i] for i in idx], [preds[i] for i in idx], skeleton)
    for name, (lo, hi) in OCCLUSION_BINS.items():
        sub_g, sub_p = [], []
        for gt, pred in zip(gts, preds, strict=True):
            occlusion = 1.0 - gt.persons.visible_fractions
            keep = (occlusion >= lo) & (occlusion < hi)
            sub_g.append(_select(gt, keep))
            sub_p.append(_select_poses(pred, keep))
        if sum(len(g.persons) for g in sub_g):
            results[f"occlusion/{name}"] = _metrics(sub_g, sub_p, skeleton)
    levels = [crowd_level(crowd_index(g, skeleton)) for g in gts]
    for level in ("easy", "medium", "hard"):
        idx = [i for i, lv in enumerate(levels) if lv == level]
        if idx:
            results[f"crowd/{level}"] = _metrics([gts[i] for i in idx], [preds[i] for i in idx], skeleton)
    return results


def _select_poses(poses: Poses2D, keep: np.ndarray) -> Poses2D:
    return Poses2D(poses.skeleton, poses.keypoints[keep], poses.scores[keep], poses.states[keep], poses.boxes[keep], poses.person_scores[keep])


def _metrics(gts: Sequence[FrameAnnotation], preds: Sequence[Poses2D], skeleton: str) -> dict[str, float | int]:
    out = oks_ap(gts, preds, skeleton)
    out["people"] = sum(len(g.persons) for g in gts)
    gt_k, gt_s, pr_k, pr_s, boxes = [], [], [], [], []
    for gt, pred in zip(gts, preds, strict=True):
        gt_k.append(convert_keypoints(gt.persons.keypoints, gt.persons.skeleton, skeleton))
        gt_s.append(convert_joint_states(gt.persons.keypoint_states, gt.persons.skeleton, skeleton))
        pr_k.append(convert_keypoints(pred.keypoints, pred.skeleton, skeleton))
        pr_s.append(convert_joint_states(pred.states, pred.skeleton, skeleton))
        boxes.append(gt.persons.boxes)
    gk, gs, pk, ps, bx = (np.concatenate(a) for a in (gt_k, gt_s, pr_k, pr_s, boxes))
    out["PCK@0.1 occluded"] = pck(gk, pk, bx, coco_visibility(gs, gk) == 1)
    out["PCK@0.1 visible"] = pck(gk, pk, bx, coco_visibility(gs, gk) == 2)
    out["occlusion acc"] = occlusion_state_accuracy(gs, ps.astype(np.uint8))
    labelled = coco_visibility(gs, gk) > 0
    out["spread x"], out["spread y"] = (float(v) for v in spread_ratios(gk, pk, bx, labelled))
    out["L/R sides"] = left_right_agreement(gk, pk, bx, labelled, skeleton)[0]
    return out


class MeanPoseEstimator:
    """The mean-pose floor: one constant pose, in box-normalised coordinates, pasted into every box.

    :meth:`fit` takes the mean over people of each joint's ``((x - x1) / w, (y - y1) / h)`` (labelled
    joints only). Fitted on the evaluated frames themselves it is the best constant pose for them: a
    pose model that does not beat it has learned no more than where joints sit in a box on average.
    Exposes ``estimate(image, boxes)`` and ``skeleton`` like :class:`.runner.OccludedPoseEstimator`.
    """

    name = "mean-pose"

    def __init__(self, skeleton: str, mean_pose: np.ndarray) -> None:
        self.skeleton = skeleton
        self.mean_pose = np.asarray(mean_pose, np.float64).reshape(-1, 2)

    @classmethod
    def fit(cls, frames: Iterable[tuple[np.ndarray, FrameAnnotation]], skeleton: str = "coco17", min_height: float = 32.0) -> MeanPoseEstimator:
        rows = []
        for _, frame in frames:
            keep = evaluable(frame, min_height)
            p = frame.persons
            k = convert_keypoints(p.keypoints[keep], p.skeleton, skeleton)
            s = convert_joint_states(p.keypoint_states[keep], p.skeleton, skeleton)
            k = np.where((coco_visibility(s, k) > 0)[..., None], k, np.nan)
            b = p.boxes[keep].astype(np.float64)
            size = np.maximum(b[:, 2:] - b[:, :2], 1e-9)
            rows.append((k - b[:, None, :2]) / size[:, None])
        normalised = np.concatenate(rows) if rows else np.zeros((0, 0, 2))
        if not len(normalised) or not np.isfinite(normalised).any():
            raise ValueError("no labelled joint to fit a mean pose on")
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(normalised, axis=0)
        return cls(skeleton, np.nan_to_num(mean, nan=0.5))

    def estimate(self, image: np.ndarray, boxes_xyxy: np.ndarray) -> Poses2D:
        boxes = np.asarray(boxes_xyxy, np.float32).reshape(-1, 4)
        n, k = len(boxes), len(self.mean_pose)
        b = boxes.astype(np.float64)
        keypoints = b[:, None, :2] + self.mean_pose[None] * (b[:, None, 2:] - b[:, None, :2])
        scores = np.ones((n, k), np.float32)
        states = np.full((n, k), JointState.VISIBLE, np.uint8)
        return Poses2D(self.skeleton, keypoints.astype(np.float32), scores, states, boxes, np.ones(n, np.float32))


def blazepose_trunk_weights(path: Path | str, input_size: tuple[int, int] = (256, 192)) -> Path:
    """Write (to ``path``) a pose network whose heatmaps are the fixed BlazePose trunk's own joint maps and nothing else.

    The ``blazepose`` baseline of ``evaluate pose``: the trunk that ``--preset cpu_blazepose`` builds on,
    with its heatmaps (sigmoid of the logits) decoded like ours and no trained head (final layer zero,
    no TRP / SGM / mask / occlusion head), so a comparison shows what the heads trained here add to it.
    Occlusion states are all "visible" (no head to tell).
    """
    import torch

    from ...training import save_weights
    from .model import BLAZEPOSE, OccludedPoseNet, PoseNetConfig

    height, width = input_size
    config = PoseNetConfig(input_height=height, input_width=width, backbone=BLAZEPOSE, channels=8, use_trp=False,
                           use_sgm=False, use_mask=False, use_occlusion=False, use_domain=False, trunk_prior=True)
    model = OccludedPoseNet(config).eval()
    with torch.no_grad():
        for parameter in model.final_layer.parameters():
            parameter.zero_()
    return save_weights(path, model, {"model": config.to_dict()})


def occlusion_table(
    estimator: OccludedPoseEstimator,
    frames: Iterable[tuple[np.ndarray, FrameAnnotation]],
    fractions: Sequence[float] = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
    skeleton: str = "coco17",
    min_visible: float = 0.9,
    min_height: float = 48.0,
    seed: int = 0,
) -> dict[float, dict[str, float | int]]:
    """AP of nearly unoccluded people (visible fraction >= ``min_visible``) with ``fraction`` of their parts hidden.

    The occluders are painted on the image, over each evaluated person's parts, before the network
    sees it (a crop or the whole frame); the true keypoints stay the ground truth, and the same
    random parts are hidden for every model (``seed``).
    """
    people = []
    for image, frame in frames:
        vis = np.nan_to_num(frame.persons.visible_fractions, nan=1.0)
        keep = evaluable(frame, min_height) & (vis >= min_visible)
        if keep.any():
            people.append((image, _select(frame, keep)))
    table: dict[float, dict[str, float]] = {}
    for fraction in fractions:
        rng = np.random.default_rng(seed)
        gts, preds = [], []
        for image, gt in people:
            kpts = convert_keypoints(gt.persons.keypoints, gt.persons.skeleton, estimator.skeleton)
            states = convert_joint_states(gt.persons.keypoint_states, gt.persons.skeleton, estimator.skeleton)
            edited = image
            for k, s in zip(kpts, states, strict=True):
                edited = occlude_parts(edited, k, s, estimator.skeleton, fraction, rng)[0]
            gts.append(gt)
            preds.append(estimator.estimate(edited, gt.persons.boxes))
        table[fraction] = {**oks_ap(gts, preds, skeleton), "people": sum(len(g.persons) for g in gts)}
    return table


def latency_vs_people(
    estimator: OccludedPoseEstimator,
    image: np.ndarray,
    boxes: np.ndarray,
    counts: Sequence[int] = (1, 10, 30, 60, 80),
    repeats: int = 5,
    seed: int = 0,
) -> dict[int, float]:
    """Median milliseconds of ``estimate(image, n boxes)``; boxes are drawn (with jitter) from ``boxes``."""
    rng = np.random.default_rng(seed)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(boxes) == 0:
        raise ValueError("latency needs at least one person box to draw from")
    out = {}
    for n in counts:
        chosen = boxes[rng.integers(0, len(boxes), n)] + rng.normal(0, 2, (n, 4))
        estimator.estimate(image, chosen)  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            estimator.estimate(image, chosen)
            times.append((time.perf_counter() - start) * 1e3)
        out[n] = float(np.median(times))
    return out
