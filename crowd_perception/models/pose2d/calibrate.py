"""Calibration of the occlusion head's decision threshold on held-out frames, folded into the weights.

Training shifts the share of occluded joints: the mask-and-predict curriculum hides up to 70 % of
the body parts of source-domain people, so late in training most labelled joints are occluded and
the head learns that prior. On natural frames its logits are biased towards "occluded". The fix is
a threshold chosen on held-out frames of the source domain (``val_a``: never trained on, keypoints
known): the logit offset that maximises visible-vs-occluded accuracy there. It is subtracted from
the bias of the head's person-level term, so every backend and the node keep deciding at
``sigmoid(logit) > 0.5``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ...core.annotations import FrameAnnotation
from ...core.skeletons import convert_joint_states
from ...core.types import JointState
from .evaluate import evaluable
from .export import load_pose_model
from .model import OccludedPoseNet
from .runner import OccludedPoseEstimator

__all__ = ["occlusion_logits_and_labels", "best_threshold", "calibrate_occlusion"]


def occlusion_logits_and_labels(
    estimator: OccludedPoseEstimator, frames: Iterable[tuple[np.ndarray, FrameAnnotation]], min_height: float = 24.0
) -> tuple[np.ndarray, np.ndarray]:
    """Flat occlusion logits and 0/1 labels (1 = occluded) of every joint with a known state, on the ground-truth boxes."""
    logits, labels = [], []
    for image, frame in frames:
        persons = frame.persons
        keep = evaluable(frame, min_height)
        if not keep.any():
            continue
        _, occlusion, _ = estimator.infer(image, persons.boxes[keep])
        states = convert_joint_states(persons.keypoint_states[keep], persons.skeleton, estimator.skeleton)
        occluded = JointState.is_occluded(states)
        known = occluded | (states == JointState.VISIBLE)
        logits.append(occlusion[known])
        labels.append(occluded[known])
    if not logits:
        raise ValueError("no person with a known joint state in the calibration frames")
    return np.concatenate(logits).astype(np.float64), np.concatenate(labels).astype(bool)


def best_threshold(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """``(threshold, accuracy)``: the logit threshold (``logit > t`` = occluded) with the highest accuracy.

    Exhaustive over the midpoints between sorted logits (plus both ends), in ``O(n log n)``.
    """
    logits, labels = np.asarray(logits, dtype=np.float64), np.asarray(labels, dtype=bool)
    if len(logits) == 0:
        raise ValueError("need at least one labelled joint")
    order = np.argsort(logits)
    sorted_logits, sorted_labels = logits[order], labels[order]
    # threshold below element i: elements [0, i) are called visible, [i, n) occluded
    visible_right = np.concatenate([[0], np.cumsum(~sorted_labels)])  # visible ones called visible
    occluded_left = sorted_labels.sum() - np.concatenate([[0], np.cumsum(sorted_labels)])  # occluded ones called occluded
    correct = visible_right + occluded_left
    best = int(np.argmax(correct))
    bounds = np.concatenate([[sorted_logits[0] - 1.0], sorted_logits, [sorted_logits[-1] + 1.0]])
    threshold = 0.5 * (bounds[best] + bounds[best + 1])
    return float(threshold), float(correct[best] / len(logits))


def calibrate_occlusion(
    weights_path: Path | str, frames: Iterable[tuple[np.ndarray, FrameAnnotation]]
) -> tuple[OccludedPoseNet, dict, dict[str, float]]:
    """The network of ``weights_path`` with the accuracy-optimal threshold on ``frames`` folded into its
    occlusion bias, its config dict, and a report (threshold, accuracy at 0 and at the threshold)."""
    import torch

    model, config = load_pose_model(weights_path)
    if model.occlusion_head is None:
        raise ValueError(f"{weights_path}: the model has no occlusion head to calibrate")
    logits, labels = occlusion_logits_and_labels(OccludedPoseEstimator(weights_path, backend="torch"), frames)
    threshold, accuracy = best_threshold(logits, labels)
    with torch.no_grad():
        model.occlusion_head.person.bias.sub_(threshold)
    report = {
        "threshold": threshold,
        "accuracy_before": float(((logits > 0) == labels).mean()),
        "accuracy_after": accuracy,
        "occluded_share": float(labels.mean()),
        "joints": len(labels),
    }
    return model, config, report
