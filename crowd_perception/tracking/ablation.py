"""Tracker ablation: ground truth -> detections -> tracker -> TrackEval.

Detections come from the seeded perturbation model (association alone) or, when the frames carry
them, from a real detector run once per frame (:func:`detect_samples`). Every tracker variant sees
exactly the same detections (computed once per sequence and condition), so differences come from
the association alone.
Conditions stress what the switches are for:

- ``nominal``: every frame, static image plane as rendered;
- ``dropped``: a seeded 25 % of frames never reach the tracker (the evaluation skips them too,
  so only association quality counts);
- ``pan``: an extra camera pan/zoom, a known image-plane homography per frame applied to the
  ground truth (and to a detector's boxes) and handed to the tracker (what the ROS node will fill
  from odometry).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..core.annotations import FrameAnnotation, PersonAnnotations
from ..core.types import Detections, Tracks
from ..eval.tracking import TrackingReport, evaluate_mot
from ..formats.mot import MotWriter, ResultsWriter
from .config import TrackerConfig
from .matching import iou_distance, linear_assignment
from .perturbation import DetectionPerturbation, PerturbationConfig
from .tracker import Tracker

if TYPE_CHECKING:
    from ..synth.generator import Sample

__all__ = [
    "CONDITIONS",
    "GroundTruthFrame",
    "GroundTruthSequence",
    "from_annotations",
    "detect_samples",
    "detection_identities",
    "apply_condition",
    "for_frame_rate",
    "FrameTracker",
    "TrackerFactory",
    "config_factory",
    "evaluate_trackers",
    "run_ablation",
]

CONDITIONS = ("nominal", "dropped", "pan")
DROP_RATE = 0.25
IGNORE_BELOW_VISIBILITY = 0.1  # the perturbation never detects less visible people: not scored


@dataclass(frozen=True)
class GroundTruthFrame:
    stamp_ns: int
    boxes: np.ndarray  # (N, 4) xyxy
    ids: np.ndarray
    visible: np.ndarray  # (N,) visible fractions, NaN unknown
    homography: np.ndarray | None = None  # previous image -> this image, when the camera moved
    detections: Detections | None = None  # a detector's output on this image; None: use the perturbation model


@dataclass(frozen=True)
class GroundTruthSequence:
    name: str
    frame_rate: float
    width: int
    height: int
    frames: tuple[GroundTruthFrame, ...]


def from_annotations(
    annotations: Iterable[FrameAnnotation],
    frame_rate: float,
    detections: Mapping[str, Detections] | None = None,
) -> list[GroundTruthSequence]:
    """Group frame annotations (e.g. the synth ``bench`` preset's) into sequences, with a detector's
    output per ``image_id`` attached when ``detections`` is given."""
    detections = detections or {}
    grouped: dict[str, list[FrameAnnotation]] = {}
    for a in annotations:
        grouped.setdefault(a.sequence, []).append(a)
    out = []
    for name, frames in grouped.items():
        frames.sort(key=lambda a: a.frame_index)
        items = tuple(
            GroundTruthFrame(
                a.stamp_ns,
                a.persons.boxes.astype(np.float64),
                a.persons.ids,
                a.persons.visible_fractions,
                detections=detections.get(a.image_id),
            )
            for a in frames
        )
        out.append(GroundTruthSequence(name, frame_rate, frames[0].width, frames[0].height, items))
    return out


def detect_samples(
    samples: Iterable[Sample], detect: Callable[[np.ndarray], Detections], max_frames: int | None = None
) -> tuple[list[FrameAnnotation], dict[str, Detections]]:
    """Run ``detect`` once on each synth sample's image (the first ``max_frames`` of each sequence when
    given) and keep only the annotations and detections, so the images are not held in memory."""
    annotations, detections = [], {}
    for sample in samples:
        a = sample.annotation
        if max_frames is not None and a.frame_index >= max_frames:
            continue
        annotations.append(a)
        detections[a.image_id] = detect(sample.image)
    return annotations, detections


def detection_identities(
    gt_boxes: np.ndarray, gt_ids: np.ndarray, det_boxes: np.ndarray, min_iou: float = 0.5
) -> np.ndarray:
    """The identity of each detection (-1: none), by a one-to-one IoU matching to the ground truth."""
    ids = np.full(len(det_boxes), -1, dtype=np.int64)
    matches, _, _ = linear_assignment(iou_distance(np.asarray(gt_boxes), np.asarray(det_boxes)), 1.0 - min_iou)
    ids[matches[:, 1]] = np.asarray(gt_ids)[matches[:, 0]]
    return ids


def _pan(t: float, width: int, height: int) -> np.ndarray:
    """Camera image-plane motion at time ``t``: a swinging pan (up to 240 px/s) and a slow zoom."""
    shift = 120.0 * np.sin(2 * np.pi * t / 3.0) + 60.0 * t
    scale = 1.0 + 0.1 * np.sin(2 * np.pi * t / 5.0)
    c = np.array([width / 2, height / 2])
    return np.array([[scale, 0, (1 - scale) * c[0] - shift], [0, scale, (1 - scale) * c[1]], [0, 0, 1.0]])


def _warp_boxes(boxes: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Axis-aligned hull of the boxes' four corners mapped by the homography ``h``."""
    corners = np.asarray(boxes, np.float64)[:, [0, 1, 2, 3, 0, 3, 2, 1]].reshape(-1, 4, 2)
    warped = np.concatenate([corners, np.ones((*corners.shape[:2], 1))], -1) @ h.T
    warped = warped[..., :2] / warped[..., 2:]
    return np.concatenate([warped.min(1), warped.max(1)], axis=1)


def apply_condition(seq: GroundTruthSequence, condition: str, seed: int) -> GroundTruthSequence:
    """The sequence as the tracker sees it under ``condition`` (see the module docstring)."""
    if condition == "nominal":
        return seq
    if condition == "dropped":
        keep = np.random.default_rng([seed, 0xD0]).random(len(seq.frames)) >= DROP_RATE
        keep[0] = True
        frames = tuple(f for f, k in zip(seq.frames, keep, strict=True) if k)
    elif condition == "pan":
        panned: list[GroundTruthFrame] = []
        previous = None
        t0 = seq.frames[0].stamp_ns
        for f in seq.frames:
            h = _pan((f.stamp_ns - t0) * 1e-9, seq.width, seq.height)
            step = None if previous is None else h @ np.linalg.inv(previous)
            dets = f.detections
            if dets is not None:
                dets = Detections(_warp_boxes(dets.boxes, h), dets.scores, embeddings=dets.embeddings)
            panned.append(GroundTruthFrame(f.stamp_ns, _warp_boxes(f.boxes, h), f.ids, f.visible, step, dets))
            previous = h
        frames = tuple(panned)
    else:
        raise ValueError(f"unknown condition {condition!r}; known: {CONDITIONS}")
    return GroundTruthSequence(seq.name, seq.frame_rate, seq.width, seq.height, frames)


def for_frame_rate(config: TrackerConfig, frame_rate: float) -> TrackerConfig:
    """The config as JDE's evaluation runs it on a sequence of ``frame_rate``.

    Frame-counting configs take the sequence rate and JDE's buffer ``int(rate / 30 * 30)``;
    time-based configs need nothing (their buffer is in seconds and dt comes from the stamps).
    """
    if config.time_based:
        return config
    return config.replace(frame_rate=frame_rate, track_buffer_frames=int(frame_rate / 30.0 * 30))


def _frame_numbers(seq: GroundTruthSequence) -> Iterator[int]:
    """1-based frame numbers from the stamps (dropped frames leave gaps)."""
    t0 = seq.frames[0].stamp_ns
    for f in seq.frames:
        yield 1 + round((f.stamp_ns - t0) * 1e-9 * seq.frame_rate)


def _write_gt(sequences: list[GroundTruthSequence], root: Path) -> None:
    with MotWriter(root, split="gt", ignore_below_visibility=IGNORE_BELOW_VISIBILITY) as writer:
        for seq in sequences:
            writer.fps = seq.frame_rate
            for number, f in zip(_frame_numbers(seq), seq.frames, strict=True):
                persons = PersonAnnotations("body22", f.boxes, ids=f.ids, visible_fractions=f.visible)
                writer.add_annotation(
                    FrameAnnotation(
                        f"{seq.name}/{number}",
                        seq.width,
                        seq.height,
                        persons,
                        sequence=seq.name,
                        frame_index=number - 1,
                    )
                )


class FrameTracker(Protocol):
    """What the evaluation drives: our :class:`Tracker` or a peer's adapter (``tracking.peers``)."""

    def update(self, detections: Detections, stamp_ns: int, homography: np.ndarray | None = None) -> Tracks: ...


TrackerFactory = Callable[[GroundTruthSequence], FrameTracker]  # a fresh tracker for one sequence


def _track(make: TrackerFactory, seq: GroundTruthSequence, detections: list[Detections], path: Path) -> None:
    tracker = make(seq)
    with ResultsWriter(path) as writer:
        for number, f, dets in zip(_frame_numbers(seq), seq.frames, detections, strict=True):
            writer.add(number, tracker.update(dets, f.stamp_ns, homography=f.homography))


def _detections(seq: GroundTruthSequence, perturbation: PerturbationConfig | None, seed: int) -> list[Detections]:
    """Each frame's detector output, or the seeded perturbation of its ground truth where it has none."""
    perturb = DetectionPerturbation(perturbation, seed=seed)
    return [
        f.detections if f.detections is not None else perturb(f.boxes, f.ids, f.visible, seq.width, seq.height)[0]
        for f in seq.frames
    ]


def evaluate_trackers(
    sequences: list[GroundTruthSequence],
    trackers: Mapping[str, TrackerFactory],
    condition: str = "nominal",
    perturbation: PerturbationConfig | None = None,
    seed: int = 0,
) -> dict[str, TrackingReport]:
    """TrackEval report of each tracker on the same ``condition`` and the same detections."""
    reports = {}
    with tempfile.TemporaryDirectory(prefix="tracking_eval_") as tmp:
        seen = [apply_condition(s, condition, seed + i) for i, s in enumerate(sequences)]
        gt_root = Path(tmp) / condition
        _write_gt(seen, gt_root)
        detections = [_detections(seq, perturbation, seed + i) for i, seq in enumerate(seen)]
        for name, make in trackers.items():
            pred = Path(tmp) / "pred" / name
            for seq, dets in zip(seen, detections, strict=True):
                _track(make, seq, dets, pred / f"{seq.name}.txt")
            reports[name] = evaluate_mot(gt_root / "gt", pred)
    return reports


def config_factory(config: TrackerConfig) -> TrackerFactory:
    """Our tracker with ``config`` as run on each sequence (see :func:`for_frame_rate`)."""
    return lambda seq: Tracker(for_frame_rate(config, seq.frame_rate))


def run_ablation(
    sequences: list[GroundTruthSequence],
    variants: dict[str, TrackerConfig],
    conditions: Iterable[str] = CONDITIONS,
    perturbation: PerturbationConfig | None = None,
    seed: int = 0,
) -> dict[tuple[str, str], TrackingReport]:
    """TrackEval reports of every ``(variant, condition)``."""
    factories = {name: config_factory(config) for name, config in variants.items()}
    reports = {}
    for condition in conditions:
        for name, report in evaluate_trackers(sequences, factories, condition, perturbation, seed).items():
            reports[name, condition] = report
    return reports
