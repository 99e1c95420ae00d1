"""Benchmarks of a trained PandaNet: accuracy on a synthetic split by crowd density, and latency
as the crowd grows (the single-shot claim: the cost should not depend on the number of people).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

import numpy as np

from ...core.annotations import FrameAnnotation
from ...core.boxes import box_iou
from ...core.camera import PinholeCamera
from ...core.skeletons import get_skeleton
from ...core.types import Detections
from ...eval.pose3d import DISTANCE_BINS, JOINT_GROUPS, Pose3DEvaluator, bin_label, evaluable, match_detections
from ...utils.results import markdown_table
from .placement import place_poses
from .postprocess import postprocess
from .runner import Pose3DEstimator
from .targets import encode_boxes

AP_SCORE_THRESHOLD = 0.05  # detections ranked for AP (pose metrics use the operating threshold)

__all__ = ["AP_SCORE_THRESHOLD", "ranking_every_detection", "PersonFinder", "evaluate_frames", "evaluate_by_group", "accuracy_markdown", "latency_by_crowd", "readout_scaling", "latency_markdown", "calibrate_score_threshold"]


@contextmanager
def ranking_every_detection(estimator: Pose3DEstimator) -> Iterator[None]:
    """Inside: ``estimator`` keeps detections down to :data:`AP_SCORE_THRESHOLD` (AP ranks the full
    list); its operating threshold is back afterwards, whatever happened."""
    saved = estimator.postprocess_config
    estimator.postprocess_config = replace(saved, score_threshold=min(AP_SCORE_THRESHOLD, saved.score_threshold))
    try:
        yield
    finally:
        estimator.postprocess_config = saved


class PersonFinder:
    """A 3D model seen as a person detector: ``detect(image) -> Detections`` of its person boxes.

    Real photos come without 3D ground truth here, but a 3D model that does not find the people
    places nobody; this scores that first step with the detection metrics. Detections down to
    :data:`AP_SCORE_THRESHOLD` are returned, so AP ranks the full list (operating points apart).
    """

    def __init__(self, estimator: Pose3DEstimator) -> None:
        self.estimator = estimator

    def detect(self, image: np.ndarray) -> Detections:
        with ranking_every_detection(self.estimator):
            poses = self.estimator.estimate(image)
        return Detections(poses.boxes, poses.person_scores)

    def found_alone(self, image: np.ndarray, annotation: FrameAnnotation, threshold: float) -> bool:
        """Whether a frame's only annotated person is found: a box scored >= ``threshold`` with IoU >= 0.5."""
        detections = self.detect(image)
        boxes = detections.boxes[detections.scores >= threshold]
        return bool(len(boxes)) and float(box_iou(boxes, annotation.persons.boxes).max()) >= 0.5


def _group(sequence: str, split: str) -> str:
    """``bench_very_dense_001`` -> ``very_dense`` (the sequence group of the split)."""
    return sequence[len(split) + 1 : sequence.rfind("_")] or sequence


def evaluate_frames(
    estimator: Pose3DEstimator,
    frames: Iterable[tuple[np.ndarray, FrameAnnotation]],
    min_visible_fraction: float = 0.1,
    group: Callable[[FrameAnnotation], str] | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics per group of frames (``group(annotation)``, e.g. crowd density) and ``"all"``.

    The estimator runs once per frame at ``AP_SCORE_THRESHOLD`` so that AP ranks the full list of
    detections; the pose metrics use the estimator's own (operating) threshold.
    """
    operating = estimator.postprocess_config.score_threshold

    def new() -> Pose3DEvaluator:
        return Pose3DEvaluator(estimator.config.skeleton, min_visible_fraction=min_visible_fraction,
                               operating_threshold=operating)

    evaluators: dict[str, Pose3DEvaluator] = {}
    overall = new()
    with ranking_every_detection(estimator):
        for image, annotation in frames:
            poses = estimator.estimate(image, annotation.camera)
            overall.add(annotation, poses)
            if group is not None:
                evaluators.setdefault(group(annotation), new()).add(annotation, poses)
    results = {g: e.summary() for g, e in evaluators.items()}
    results["all"] = overall.summary()
    return results


def evaluate_by_group(
    estimator: Pose3DEstimator, split: str = "bench", max_frames: int = 0, min_visible_fraction: float = 0.1,
    frames_per_sequence: int = 0,
) -> dict[str, dict[str, float]]:
    """:func:`evaluate_frames` on a synthetic split, grouped by sequence group (crowd density for ``bench``).

    ``frames_per_sequence`` > 0 keeps only the first frames of each sequence (a faster, still
    density-balanced subset); ``max_frames`` > 0 stops after that many frames.
    """
    from ...synth import generate, get_preset

    config = get_preset(split)
    if frames_per_sequence:
        config = config.with_frames(frames=frames_per_sequence)
    samples = itertools.islice(generate(config, seed=0), max_frames or None)
    return evaluate_frames(estimator, ((s.image, s.annotation) for s in samples), min_visible_fraction,
                           group=lambda annotation: _group(annotation.sequence, config.name))


def accuracy_markdown(results: dict[str, dict[str, float]], note: str = "") -> str:
    """Tables: headline figures per group, then by distance and by joint group over all frames."""
    head = ["group", "GT people", "AP@0.5", "recall", "MPJPE (mm)", "3DPCK@150", "root error (m, mean)", "root error (m, median)"]
    rows = [
        [g, int(r["num_gt"]), r["ap"], r["recall"], r["mpjpe_mm"], r["pck"], r["root_error_m"], r["root_error_median_m"]]
        for g, r in results.items()
    ]
    overall = results["all"]
    bins = [bin_label(lo, hi) for lo, hi in DISTANCE_BINS]
    by_distance = markdown_table(
        ["metric", *bins],
        [
            ["GT people", *[int(overall[f"count/{b}"]) for b in bins]],
            ["MPJPE (mm)", *[overall[f"mpjpe_mm/{b}"] for b in bins]],
            ["3DPCK@150", *[overall[f"pck/{b}"] for b in bins]],
        ],
    )
    groups = list(JOINT_GROUPS)
    by_joint = markdown_table(
        ["metric", *groups],
        [["MPJPE (mm)", *[overall[f"mpjpe_mm/{g}"] for g in groups]], ["3DPCK@150", *[overall[f"pck/{g}"] for g in groups]]],
    )
    return (
        f"{note}\n\n{markdown_table(head, rows)}\n\nBy distance to the camera (all groups):\n\n{by_distance}\n\n"
        f"By joint group (all groups):\n\n{by_joint}\n"
    )


def latency_by_crowd(
    estimator: Pose3DEstimator, people: tuple[int, ...] = (1, 10, 20, 40, 80), frames: int = 20, split: str = "bench",
    repeats: int = 3,
) -> list[dict[str, float]]:
    """Wall time of ``estimate`` (pre-processing, network, post-processing, placement) per scene crowd size.

    Scenes come from ``split``'s camera and street with the crowd set to ``n`` people. Crowd sizes
    are timed in interleaved rounds (every size once per round, ``repeats`` passes over ``frames``
    images each, after one warm-up), so that load changes on a shared machine hit every size alike;
    medians per size, with the network's share timed separately.
    """
    from ...synth import generate, get_preset

    base = get_preset(split)
    samples = {}
    for n in people:
        group = replace(base.sequences[0], name=f"n{n}", count=1, frames=frames, people=(n, n))
        samples[n] = list(generate(replace(base, sequences=(group,)), seed=0))
    estimator.estimate(samples[people[0]][0].image, samples[people[0]][0].annotation.camera)  # warm-up
    timings: dict[int, list[tuple[float, float, int]]] = {n: [] for n in people}
    for _, i in itertools.product(range(repeats), range(frames)):
        for n in people:
            sample = samples[n][i]
            detected = len(estimator.estimate(sample.image, sample.annotation.camera))
            timings[n].append((estimator.last_timing["total_ms"], estimator.last_timing["network_ms"], detected))
    rows = []
    for n in people:
        total, network, detected = np.array(timings[n]).T
        visible = [int(np.sum(np.nan_to_num(s.annotation.persons.visible_fractions) > 0.1)) for s in samples[n]]
        rows.append({
            "people": n,
            "visible": float(np.mean(visible)),
            "detected": float(np.mean(detected)),
            "total_ms": float(np.median(total)),
            "network_ms": float(np.median(network)),
            "other_ms": float(np.median(total - network)),
        })
    return rows


def readout_scaling(
    estimator: Pose3DEstimator, people: tuple[int, ...] = (1, 10, 20, 40, 80), candidates_per_person: int = 5,
    repeats: int = 50, seed: int = 0,
) -> list[dict[str, float]]:
    """Post-processing + placement time for exactly ``n`` people's worth of above-threshold anchors.

    The raw outputs are synthetic: ``candidates_per_person`` neighbouring anchors per person score
    above the threshold, everything else below, so the readout (threshold, NMS, decoding) and the
    placement see ``n`` people whatever the trained network's precision is.
    """
    rng = np.random.default_rng(seed)
    anchors = estimator.anchors
    m, k = len(anchors), len(estimator.config.anchors)
    joints = get_skeleton(estimator.config.skeleton).num_joints
    camera = PinholeCamera.from_fov(estimator.config.input_width, estimator.config.input_height, 65)
    rows = []
    for n in people:
        logits = np.full(m, -8.0, np.float32)
        cells = rng.choice(m // k, size=n, replace=False)
        hot = cells[:, None] * k + np.arange(min(candidates_per_person, k))[None]  # (n, c) anchors per person
        logits[hot.ravel()] = rng.uniform(0.0, 4.0, hot.size)
        deltas = np.zeros((m, 4), np.float32)
        person_boxes = np.repeat(anchors[hot[:, :1]], hot.shape[1], axis=1)  # each person's candidates agree
        deltas[hot] = encode_boxes(person_boxes.astype(np.float64), anchors[hot].astype(np.float64))
        pose2d = rng.normal(0, 0.3, (m, joints, 2)).astype(np.float32)
        pose3d = rng.normal(0, 0.05, (m, joints, 3)).astype(np.float32)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            readout = postprocess(logits, deltas, pose2d, pose3d, anchors, estimator.postprocess_config)
            place_poses(readout.keypoints, readout.poses, camera, estimator.prior.mean_m)
            times.append(1000 * (time.perf_counter() - start))
        rows.append({"people": n, "kept": float(len(readout)), "readout_ms": float(np.median(times))})
    return rows


def latency_markdown(rows: list[dict[str, float]], note: str = "", readout: list[dict[str, float]] | None = None) -> str:
    reference = rows[0]["total_ms"]
    table = markdown_table(
        ["people in scene", "visible (>10 %)", "detected", "total (ms, median)", "network (ms)",
         "pre + post + placement (ms)", "vs. 1 person"],
        [[int(r["people"]), r["visible"], r["detected"], r["total_ms"], r["network_ms"], r["other_ms"],
          f"{100 * (r['total_ms'] / reference - 1):+.1f} %"] for r in rows],
    )
    spread = max(abs(r["total_ms"] / reference - 1) for r in rows)
    verdict = "within" if spread <= 0.10 else "outside"
    text = f"{note}\n\n{table}\n\nLargest deviation from the 1-person time: {100 * spread:.1f} % ({verdict} the ±10 % goal).\n"
    if readout:
        text += (
            "\nReadout alone (threshold + NMS + decoding + placement) on synthetic raw outputs with exactly n "
            "people's worth of above-threshold anchors, independent of the network's precision:\n\n"
            + markdown_table(["people", "kept", "readout + placement (ms, median)"],
                             [[int(r["people"]), int(r["kept"]), r["readout_ms"]] for r in readout])
            + "\n"
        )
    return text


def calibrate_score_threshold(
    estimator: Pose3DEstimator,
    frames: Iterable[tuple[np.ndarray, FrameAnnotation]],
    min_visible_fraction: float = 0.1,
    candidates: Sequence[float] = tuple(np.round(np.arange(0.05, 0.951, 0.05), 2)),
) -> tuple[float, float]:
    """The score threshold with the best detection F1 (IoU 0.5) on ``frames`` -> ``(threshold, F1)``.

    Detections are computed once at the lowest candidate; greedy matching by score means that
    raising the threshold only drops the lowest-scored detections, so each candidate's TP/FP
    counts follow from the same matching.
    """
    saved = estimator.postprocess_config
    estimator.postprocess_config = replace(saved, score_threshold=float(min(candidates)))
    scores, status, num_gt = [], [], 0
    try:
        for image, annotation in frames:
            poses = estimator.estimate(image, annotation.camera)
            valid = evaluable(annotation.persons, min_visible_fraction)
            s, _ = match_detections(poses.boxes, poses.person_scores, annotation.persons.boxes, valid)
            scores.append(poses.person_scores)
            status.append(s)
            num_gt += int(valid.sum())
    finally:
        estimator.postprocess_config = saved
    score, stat = np.concatenate(scores), np.concatenate(status)
    f1 = []
    for t in candidates:
        tp = int(np.sum((stat == 1) & (score >= t)))
        fp = int(np.sum((stat == 0) & (score >= t)))
        f1.append(2 * tp / max(2 * tp + fp + (num_gt - tp), 1))
    best = int(np.argmax(f1))
    return float(candidates[best]), float(f1[best])
