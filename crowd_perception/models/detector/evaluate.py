"""Detector evaluation driver: load evaluation frames, run a :class:`PedestrianDetector`, pool
metrics per crowd density and subset, embedding TPR@FAR on ground-truth boxes, CPU latency, and
the markdown for ``docs/RESULTS.md``."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...core.annotations import FrameAnnotation
from ...core.types import Detections
from ...eval.detection import DetectionMetrics, embedding_tpr_at_far, evaluate_detections
from ...utils.results import markdown_table
from .postprocess import embeddings_at_boxes

__all__ = ["load_eval_frames", "density_of", "EvalReport", "run_evaluation", "measure_latency", "render_markdown"]

Frame = tuple[np.ndarray, FrameAnnotation]
_log = logging.getLogger(__name__)


# The real annotated samples of ``../shared/fixtures`` that hold images with person boxes. The
# CityPersons sample is left out: its one image is a 1/8 thumbnail where people are 5-12 px tall.
FIXTURE_SETS = (
    ("coco", "coco_keypoints/coco/test_coco.json"),
    ("crowdpose", "crowdpose/crowdpose/test_crowdpose.json"),
    ("ochuman", "ochuman/ochuman/test_ochuman.json"),
)


def expand_specs(spec: str) -> list[str]:
    """``a:x,b:y`` -> ``["a:x", "b:y"]``; ``fixtures:<dir>`` -> one spec per real set in :data:`FIXTURE_SETS`."""
    specs = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        source, _, where = part.partition(":")
        if source == "fixtures":
            specs += [f"{name}:{os.path.join(where, path)}" for name, path in FIXTURE_SETS]
        else:
            specs.append(part)
    return specs


def load_eval_frames(spec: str, max_frames: int = 0, every: int = 1, frames_per_sequence: int = 0) -> list[Frame]:
    """Frames named ``source:where``: ``synth:<preset>`` (rendered at the preset's size, seed 0; the
    first ``frames_per_sequence`` frames of each sequence when > 0),
    ``crowdhuman|citypersons|coco|crowdpose|ochuman|mot:<annotation path>`` or ``fixtures:<dir>``
    (the real sets of :data:`FIXTURE_SETS`); several specs joined by commas are concatenated.
    Every ``every``-th frame of each spec, at most ``max_frames`` in all."""
    specs = expand_specs(spec)
    if len(specs) != 1:
        pooled = [f for s in specs for f in load_eval_frames(s, 0, every, frames_per_sequence)]
        return pooled[:max_frames] if max_frames else pooled
    source, _, where = specs[0].partition(":")
    if not where:
        raise ValueError(f"evaluation data must be 'source:where' (e.g. synth:bench), got {spec!r}")
    frames: list[Frame] = []
    if source == "synth":
        from ...synth import generate, get_preset

        config = get_preset(where)
        if frames_per_sequence:
            config = config.with_frames(frames=frames_per_sequence)
        iterator = ((s.image, s.annotation) for s in generate(config, seed=0))
    else:
        from ...formats import read_dataset

        data = read_dataset(source, where) if source != "mot" else _read_mot(where)
        iterator = (data.load(i) for i in range(len(data)))
    for i, frame in enumerate(iterator):
        if i % every == 0:
            frames.append(frame)
            if max_frames and len(frames) >= max_frames:
                break
    return frames


def _read_mot(where: str):
    from ...formats.mot import read_mot

    return read_mot(where)


def density_of(ann: FrameAnnotation) -> str:
    """The crowd-density group of a synthetic frame: its sequence name without the split prefix
    and the index (``bench_very_dense_001`` -> ``very_dense``); ``all`` for other data."""
    parts = ann.sequence.split("_")
    if len(parts) < 3 or not parts[-1].isdigit():
        return "all"
    return "_".join(parts[1:-1])


@dataclass
class EvalReport:
    """Metrics per (group, subset), the embedding TPR@FAR=0.1 and the frame counts."""

    metrics: dict[tuple[str, str], DetectionMetrics] = field(default_factory=dict)
    tpr_at_far: float | None = None
    frames: int = 0
    latency: dict[str, float] | None = None
    operating_points: tuple[float, ...] = ()  # score thresholds to tabulate (overall, first subset)


def _identity_classes(anns: Sequence[FrameAnnotation]) -> list[np.ndarray]:
    """Per-frame identity classes unique across sequences (``(sequence, id)`` pairs), -1 unknown."""
    table: dict[tuple[str, int], int] = {}
    return [
        np.array([table.setdefault((a.sequence, int(i)), len(table)) if i >= 0 else -1 for i in a.persons.ids])
        for a in anns
    ]


def run_evaluation(
    detector: Any, frames: Sequence[Frame], subsets: Sequence[str] = ("all",), embeddings: bool = False
) -> EvalReport:
    """Detect on every frame and evaluate per density group (plus ``overall``) and subset."""
    detections: list[Detections] = []
    gt_embeddings, gt_ids = [], []
    ids = _identity_classes([a for _, a in frames]) if embeddings else []
    for k, (image, ann) in enumerate(frames):
        if embeddings:
            outputs, (transform,) = detector.raw([image])
            visible = np.isfinite(ann.persons.visible_fractions) & (ann.persons.visible_fractions >= 0.3)
            boxes = transform.boxes_to_input(ann.persons.boxes[visible])
            gt_embeddings.append(embeddings_at_boxes(outputs, detector.points, detector.point_strides, boxes))
            gt_ids.append(ids[k][visible])
        detections.append(detector.detect(image))
    report = EvalReport(frames=len(frames))
    groups: dict[str, list[int]] = {"overall": list(range(len(frames)))}
    for i, (_, ann) in enumerate(frames):
        groups.setdefault(density_of(ann), []).append(i)
    if len(groups) == 2 and "all" in groups:
        del groups["all"]
    for group, index in groups.items():
        for subset in subsets:
            report.metrics[(group, subset)] = evaluate_detections(
                [detections[i] for i in index], [frames[i][1] for i in index], subset
            )
    if embeddings and gt_embeddings:
        try:
            report.tpr_at_far = embedding_tpr_at_far(np.concatenate(gt_embeddings), np.concatenate(gt_ids), 0.1)
        except ValueError as error:  # e.g. one frame per sequence: no same-identity pairs
            _log.warning("embedding TPR@FAR not computed: %s", error)
    return report


def measure_latency(
    detector: Any, images: Sequence[np.ndarray], repeats: int = 50, warmup: int = 5
) -> dict[str, float]:
    """Wall time of ``detector.detect`` (letterbox + network + post-processing), cycling over ``images``,
    the process CPU time per call (all threads; a loaded machine inflates it much less than wall time)
    and the 1-minute load average at the end."""
    for i in range(warmup):
        detector.detect(images[i % len(images)])
    wall, cpu = [], []
    for i in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        detector.detect(images[i % len(images)])
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    ms = np.array(wall) * 1e3
    return {
        "median_ms": float(np.median(ms)),
        "p90_ms": float(np.percentile(ms, 90)),
        "fps": float(1e3 / np.median(ms)),
        "cpu_ms": float(np.median(cpu) * 1e3),
        "load": float(os.getloadavg()[0]),
    }


def render_markdown(report: EvalReport, title_note: str = "") -> str:
    """Tables of MR^-2 / AP50 / recall per group (``overall``, then densities in data order) and subset,
    TPR@FAR and latency."""
    rows = [[group, subset, m.num_gt, m.mr2, m.ap, m.recall] for (group, subset), m in report.metrics.items()]
    parts = [title_note] if title_note else []
    parts.append(f"{report.frames} frames; MR^-2 lower is better, AP50 and recall higher is better.\n")
    parts.append(markdown_table(["group", "subset", "people", "MR^-2", "AP50", "recall"], rows))
    if report.operating_points:
        group, subset = next(iter(report.metrics))
        metrics = report.metrics[(group, subset)]
        points = [metrics.at_threshold(t) for t in report.operating_points]
        parts.append(f"\nOperating points ({group}, {subset}): what a node publishing score >= threshold sends on.\n")
        parts.append(
            markdown_table(
                ["score threshold", "detections / frame", "false positives / frame", "recall"],
                [[p["threshold"], p["det_per_image"], p["fp_per_image"], p["recall"]] for p in points],
            )
        )
    if report.tpr_at_far is not None:
        parts.append(f"\nEmbedding TPR@FAR=0.1 on ground-truth boxes (visible >= 30 %): {report.tpr_at_far:.3f}")
    if report.latency is not None:
        lat = report.latency
        parts.append(
            f"\nCPU latency of `detect()` (letterbox + network + post-processing): median {lat['median_ms']:.1f} ms, "
            f"p90 {lat['p90_ms']:.1f} ms, {lat['fps']:.1f} FPS wall; median CPU time "
            f"{lat.get('cpu_ms', float('nan')):.1f} ms per call; 1-min load average {lat.get('load', float('nan')):.1f}"
        )
    return "\n".join(parts)
