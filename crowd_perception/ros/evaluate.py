"""All metrics of a replayed bag in one report, computed by the areas' own metric modules.

Ground truth comes from the bag's ``/ground_truth/*`` topics (or from a second bag, matched by
image stamp); predictions from our output topics. Detection: AP and MR^-2
(:mod:`crowd_perception.eval.detection`, CrowdHuman/Caltech protocol, "all" and "reasonable");
2D pose: OKS AP (pycocotools) and PCK@0.1 on ground-truth occluded joints of the persons a pose
matched (box IoU >= 0.5); 3D: AP, MPJPE and 3DPCK@150 mm overall and by camera distance
(:mod:`crowd_perception.eval.pose3d`); tracking: HOTA / MOTA / IDF1 by TrackEval through
MOTChallenge files (:mod:`crowd_perception.eval.tracking`). Outputs: a text table, JSON and PNG plots.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..core.annotations import FrameAnnotation
from ..core.boxes import box_iou
from ..core.skeletons import get_skeleton, joint_mapping
from ..core.types import Detections, JointState, Poses2D, Poses3D, Tracks, TrackState
from . import convert
from .bag import GT_DETECTIONS_TOPIC, GT_TRACKS_TOPIC, OUTPUT_TOPICS, BagError, BagReader, annotation_from_messages

if TYPE_CHECKING:
    from ..eval.detection import DetectionMetrics

_T = TypeVar("_T")
_Output = TypeVar("_Output", Detections, Poses2D, Poses3D, Tracks)

__all__ = ["BagEvaluation", "load_evaluation_frames", "evaluate_frames", "evaluate_bag", "evaluate_without_ground_truth"]


@dataclass
class _Frame:
    annotation: FrameAnnotation
    detections: Detections | None
    poses_2d: Poses2D | None
    poses_3d: Poses3D | None
    tracks: Tracks | None


@dataclass
class BagEvaluation:
    """Every metric by area (``None`` where the bag has no such output), plus why areas were skipped."""

    frames: int
    detection: dict[str, float] | None = None
    pose2d: dict[str, float] | None = None
    pose3d: dict[str, float] | None = None
    tracking: dict[str, float] | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    plots: list[str] = field(default_factory=list)
    without_ground_truth: dict[str, Any] | None = None  # what a bag without ground truth tells (counts, stability)
    missing_outputs: dict[str, int] = field(default_factory=dict)  # frames without an output, scored as empty
    replay: dict[str, Any] | None = None  # the replay's own record (complete, skipped frames by reason)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, default=lambda v: None if isinstance(v, float) and math.isnan(v) else v)

    def table(self) -> str:
        """A plain-text summary table of the headline figures."""
        rows: list[tuple[str, str, str]] = []
        pick = {
            "detection": [("ap", "AP@0.5"), ("mr2", "MR^-2"), ("reasonable_mr2", "MR^-2 reasonable"),
                          ("recall", "recall")],
            "pose2d": [("AP", "OKS AP"), ("AP50", "OKS AP50"), ("pck_occluded", "PCK@0.1 occluded joints"),
                       ("pck_visible", "PCK@0.1 visible joints"), ("occlusion_accuracy", "occlusion state accuracy")],
            "pose3d": [("ap", "AP@0.5"), ("mpjpe_mm", "MPJPE [mm]"), ("pck", "3DPCK@150mm"),
                       ("root_error_m", "root error [m]")]
                      + [(k, k.replace("pck/", "3DPCK ")) for k in (self.pose3d or {}) if k.startswith("pck/") and " m" in k],
            "tracking": [("HOTA", "HOTA"), ("MOTA", "MOTA"), ("IDF1", "IDF1"), ("IDSW", "ID switches")],
        }
        if self.replay is not None and not self.replay.get("complete", True):
            rows.append(("replay", "INCOMPLETE", str(self.replay.get("ended_early") or "interrupted")))
        if self.replay is not None and self.replay.get("skipped"):
            rows.append(("replay", "skipped frames", ", ".join(f"{n} {r}" for r, n in self.replay["skipped"].items())))
        for name, count in self.missing_outputs.items():
            rows.append(("replay", f"frames without {name}", f"{count} (scored as empty)"))
        if self.without_ground_truth is not None:
            rows += [("no ground truth", key, _fmt(value)) for key, value in self.without_ground_truth.items()]
            width = [max(len(r[i]) for r in rows) for i in range(2)]
            return "\n".join(f"{a.ljust(width[0])}  {b.ljust(width[1])}  {c}" for a, b, c in rows)
        for area, keys in pick.items():
            values = getattr(self, area)
            if values is None:
                rows.append((area, "skipped", self.skipped.get(area, "")))
                continue
            for key, label in keys:
                if key in values:
                    rows.append((area, label, _fmt(values[key])))
        width = [max(len(r[i]) for r in rows) for i in range(2)]
        return "\n".join(f"{a.ljust(width[0])}  {b.ljust(width[1])}  {c}" for a, b, c in rows)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def load_evaluation_frames(bag: str | Path, gt_bag: str | Path | None = None,
                           topics: dict[str, str] | None = None, strict: bool = False) -> list[_Frame]:
    """Ground truth and predictions per image of ``bag`` (ground truth from ``gt_bag`` when given).

    A frame whose image cannot be decoded still counts (its ground truth and outputs are messages
    of their own); with ``strict`` it is a :class:`BagError`.
    """
    topics = topics or OUTPUT_TOPICS
    gt_by_stamp: dict[int, FrameAnnotation] = {}
    if gt_bag is not None:
        with BagReader(gt_bag) as reader:
            labels = reader.frame_labels()
            for frame in reader.frames(strict=strict):
                annotation = annotation_from_messages(frame, labels)
                if annotation is not None:
                    gt_by_stamp[frame.header.stamp_ns] = annotation
    frames = []
    with BagReader(bag) as reader:
        labels = reader.frame_labels()
        for frame in reader.frames(strict=strict):
            annotation = gt_by_stamp.get(frame.header.stamp_ns) if gt_bag else annotation_from_messages(frame, labels)
            if annotation is None:
                continue
            get = frame.messages.get
            frames.append(_Frame(
                annotation,
                convert.detections_from_msg(get(topics["detections"]))[1] if get(topics["detections"]) else None,
                convert.poses2d_from_msg(get(topics["poses_2d"]))[1] if get(topics["poses_2d"]) else None,
                convert.poses3d_from_msg(get(topics["poses_3d"]))[1] if get(topics["poses_3d"]) else None,
                convert.tracks_from_msg(get(topics["tracks"]))[1] if get(topics["tracks"]) else None,
            ))
    if not frames:
        raise BagError(f"{bag}: no frame has ground truth (/ground_truth/* topics{' in ' + str(gt_bag) if gt_bag else ''})")
    return frames


def _fill_missing(frames: list[_Frame]) -> tuple[list[_Frame], dict[str, int]]:
    """Frames with every output that some frame has; missing ones as empty results, counted."""
    missing: dict[str, int] = {}
    for name in ("detections", "poses_2d", "poses_3d", "tracks"):
        present = [getattr(f, name) for f in frames if getattr(f, name) is not None]
        if not present or len(present) == len(frames):
            continue
        missing[name] = len(frames) - len(present)
        frames = [f if getattr(f, name) is not None else dataclasses.replace(f, **{name: _empty_like(present[0])})
                  for f in frames]
    return frames, missing


def _empty_like(output: _Output) -> _Output:
    """The empty result of ``output``'s kind (poses keep its skeleton)."""
    if isinstance(output, Detections):
        return Detections.empty()
    if isinstance(output, Poses2D):
        return Poses2D.empty(output.skeleton)
    if isinstance(output, Poses3D):
        return Poses3D.empty(output.skeleton)
    return Tracks.empty()


def _all_present(outputs: list[_T | None]) -> list[_T] | None:
    """One output per frame, or None when some frame lacks it."""
    present = [o for o in outputs if o is not None]
    return present if len(present) == len(outputs) else None


def _detection(annotations: list[FrameAnnotation],
               detections: list[Detections]) -> tuple[dict[str, float], dict[str, DetectionMetrics]]:
    """The detection metrics, and the "all" and "reasonable" curves to plot."""
    from ..eval.detection import evaluate_detections

    everyone = evaluate_detections(detections, annotations, "all")
    reasonable = evaluate_detections(detections, annotations, "reasonable")
    out = everyone.as_dict()
    out["reasonable_mr2"] = reasonable.mr2
    out["reasonable_ap"] = reasonable.ap
    return out, {"all": everyone, "reasonable": reasonable}


def _pose2d(annotations: list[FrameAnnotation], poses: list[Poses2D]) -> dict[str, float]:
    from ..eval.pose2d import occlusion_state_accuracy, oks_ap, pck

    skeleton = poses[0].skeleton
    eval_skeleton = skeleton if get_skeleton(skeleton).sigmas is not None else "coco17"
    out = dict(oks_ap(annotations, poses, eval_skeleton))
    gt_kp, pred_kp, boxes, gt_states, pred_states = [], [], [], [], []
    for annotation, pred in zip(annotations, poses, strict=True):
        gt = annotation.persons
        if len(gt) == 0 or len(pred) == 0:
            continue
        iou = box_iou(gt.boxes, pred.boxes)
        rows, cols = linear_sum_assignment(-iou)
        ok = iou[rows, cols] >= 0.5
        rows, cols = rows[ok], cols[ok]
        mapping = joint_mapping(gt.skeleton, pred.skeleton)  # gt joint index for each predicted joint
        known = mapping >= 0
        gt_kp.append(np.where(known[None, :, None], gt.keypoints[rows][:, np.maximum(mapping, 0)], np.nan))
        gt_states.append(np.where(known[None], gt.keypoint_states[rows][:, np.maximum(mapping, 0)], JointState.UNKNOWN))
        pred_kp.append(pred.keypoints[cols])
        pred_states.append(pred.states[cols])
        boxes.append(gt.boxes[rows])
    if gt_kp:
        gk, pk, bx = np.concatenate(gt_kp), np.concatenate(pred_kp), np.concatenate(boxes)
        gs, ps = np.concatenate(gt_states), np.concatenate(pred_states)
        out["pck_occluded"] = pck(gk, pk, bx, JointState.is_occluded(gs))
        out["pck_visible"] = pck(gk, pk, bx, gs == JointState.VISIBLE)
        out["occlusion_accuracy"] = occlusion_state_accuracy(gs, ps)
        out["matched_persons"] = float(len(gk))
    return out


def _pose3d(annotations: list[FrameAnnotation], poses: list[Poses3D]) -> dict[str, float]:
    from ..eval.pose3d import Pose3DEvaluator

    evaluator = Pose3DEvaluator(skeleton=poses[0].skeleton)
    for annotation, pred in zip(annotations, poses, strict=True):
        evaluator.add(annotation, pred)
    return evaluator.summary()


def _tracking(annotations: list[FrameAnnotation], tracks: list[Tracks], fps: float) -> dict[str, float]:
    from ..eval.tracking import evaluate_mot
    from ..formats.mot import MotWriter, ResultsWriter

    with tempfile.TemporaryDirectory() as tmp:
        gt_root, pred_root = Path(tmp) / "gt", Path(tmp) / "pred"
        writers: dict[str, ResultsWriter] = {}
        with MotWriter(gt_root, split="replay", fps=fps) as gt_writer:
            for annotation, frame_tracks in zip(annotations, tracks, strict=True):
                if not annotation.sequence:
                    annotation = dataclasses.replace(annotation, sequence="bag")
                gt_writer.add_annotation(annotation)
                seq = gt_writer.sequence_dir(annotation).name
                writer = writers.setdefault(seq, ResultsWriter(pred_root / f"{seq}.txt"))
                writer.add(annotation.frame_index + 1, frame_tracks)
        for writer in writers.values():
            writer.close()
        report = evaluate_mot(gt_root / "replay", pred_root)
    return dict(report.combined)


def _plots(result: BagEvaluation, curves: dict[str, DetectionMetrics], out_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..eval.detection import plot_curves

    paths = [str(p) for p in plot_curves(curves, out_dir)] if curves else []
    if result.pose3d is not None:
        bins = [k.split("/", 1)[1] for k in result.pose3d if k.startswith("count/")]
        values = [result.pose3d.get(f"pck/{b}", float("nan")) for b in bins]
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.bar(bins, np.nan_to_num(values))
        ax.set(ylim=(0, 1), xlabel="distance to the camera", ylabel="3DPCK@150mm")
        ax.grid(True, axis="y", alpha=0.3)
        fig.tight_layout()
        paths.append(str(out_dir / "pose3d_pck_by_distance.png"))
        fig.savefig(paths[-1], dpi=120)
        plt.close(fig)
    return paths


def evaluate_frames(frames: list[_Frame], out_dir: str | Path | None = None, fps: float = 10.0) -> BagEvaluation:
    """Metrics of loaded frames; with ``out_dir``, also ``metrics.json``, ``metrics.txt`` and plots.

    An area is skipped only when no frame has its output; frames that lack it (an interrupted or
    partial replay) are scored as empty results - misses, not a silently smaller test set - and
    counted in ``missing_outputs``.
    """
    result = BagEvaluation(frames=len(frames))
    frames, result.missing_outputs = _fill_missing(frames)
    annotations = [f.annotation for f in frames]
    curves: dict[str, DetectionMetrics] = {}
    if (detections := _all_present([f.detections for f in frames])) is not None:
        result.detection, curves = _detection(annotations, detections)
    else:
        result.skipped["detection"] = "no detections output in the bag"
    if (poses_2d := _all_present([f.poses_2d for f in frames])) is not None:
        result.pose2d = _pose2d(annotations, poses_2d)
    else:
        result.skipped["pose2d"] = "no 2D poses output in the bag"
    if (poses_3d := _all_present([f.poses_3d for f in frames])) is None:
        result.skipped["pose3d"] = "no 3D poses output in the bag"
    elif annotations[0].persons.skeleton != poses_3d[0].skeleton:
        result.skipped["pose3d"] = (f"ground truth skeleton {annotations[0].persons.skeleton} differs from "
                                    f"the predictions' {poses_3d[0].skeleton}")
    else:
        result.pose3d = _pose3d(annotations, poses_3d)
    if (tracks := _all_present([f.tracks for f in frames])) is None:
        result.skipped["tracking"] = "no tracks output in the bag"
    elif any((a.persons.ids < 0).any() for a in annotations):
        result.skipped["tracking"] = "ground truth without person ids"
    else:
        result.tracking = _tracking(annotations, tracks, fps)
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        result.plots = _plots(result, curves, out_dir)
        (out_dir / "metrics.json").write_text(result.to_json(), encoding="utf-8")
        (out_dir / "metrics.txt").write_text(result.table() + "\n", encoding="utf-8")
    return result


def _has_ground_truth(bag: str | Path) -> bool:
    with BagReader(bag) as reader:
        return GT_DETECTIONS_TOPIC in reader.topics and GT_TRACKS_TOPIC in reader.topics


def evaluate_without_ground_truth(bag: str | Path, topics: dict[str, str] | None = None,
                                  strict: bool = False) -> dict[str, Any]:
    """What a replayed bag of one's own recording tells without labels: frame and output counts,
    detections per frame, and how stable the tracks are (lengths, births, fragmented ids)."""
    topics = topics or OUTPUT_TOPICS
    frames = undecodable = 0
    with_output = dict.fromkeys(topics, 0)
    per_frame: list[int] = []
    scores: list[float] = []
    confirmed_per_frame: list[int] = []
    seen: dict[int, list[int]] = {}
    placed = poses3d = 0
    with BagReader(bag) as reader:
        for index, frame in enumerate(reader.frames(strict=strict)):
            frames += 1
            undecodable += frame.fault is not None
            for name, topic in topics.items():
                with_output[name] += topic in frame.messages
            if topics["detections"] in frame.messages:
                _, dets = convert.detections_from_msg(frame.messages[topics["detections"]])
                per_frame.append(len(dets))
                scores.extend(dets.scores.tolist())
            if topics["tracks"] in frame.messages:
                _, tracks = convert.tracks_from_msg(frame.messages[topics["tracks"]])
                ids = tracks.ids[(tracks.states == TrackState.CONFIRMED) & (tracks.time_since_update == 0)]
                confirmed_per_frame.append(len(ids))
                for track_id in ids.tolist():
                    seen.setdefault(int(track_id), []).append(index)
            if topics["poses_3d"] in frame.messages:
                _, p3 = convert.poses3d_from_msg(frame.messages[topics["poses_3d"]])
                poses3d += len(p3)
                placed += int(np.sum(p3.placed_with_intrinsics))
    if frames == 0:
        raise BagError(f"{bag}: no image frames")
    out: dict[str, Any] = {"frames": frames, "undecodable frames": undecodable}
    out.update({f"frames with {name}": count for name, count in with_output.items()})
    if per_frame:
        out["detections per frame (mean)"] = float(np.mean(per_frame))
        out["detections per frame (max)"] = int(np.max(per_frame))
        out["detection score (mean)"] = float(np.mean(scores)) if scores else float("nan")
    if confirmed_per_frame:
        lengths = np.array([len(v) for v in seen.values()], dtype=float)
        fragmented = sum(1 for v in seen.values() if v[-1] - v[0] + 1 > len(v))
        out["confirmed tracks per frame (mean)"] = float(np.mean(confirmed_per_frame))
        out["track ids"] = len(seen)
        out["track length in frames (mean)"] = float(lengths.mean()) if len(lengths) else float("nan")
        out["track length in frames (median)"] = float(np.median(lengths)) if len(lengths) else float("nan")
        out["new ids per 100 frames"] = 100.0 * len(seen) / len(confirmed_per_frame)
        out["fragmented ids (gap, then back)"] = fragmented
    if poses3d:
        out["3D poses placed with intrinsics"] = placed / poses3d
    return out


def evaluate_bag(bag: str | Path, gt_bag: str | Path | None = None, out_dir: str | Path | None = None,
                 fps: float | None = None, strict: bool = False) -> BagEvaluation:
    """Load ``bag`` (and ``gt_bag``) and compute every metric; ``fps`` defaults to the image stamps' rate.

    A bag without ground truth (one's own recording, replayed) gets what can be said without it:
    :func:`evaluate_without_ground_truth`. The replay's record (complete or not, skipped frames)
    is carried into the result either way.
    """
    with BagReader(bag) as reader:
        replay = reader.replay_info()
    if gt_bag is None and not _has_ground_truth(bag):
        result = BagEvaluation(frames=0, replay=replay,
                               without_ground_truth=evaluate_without_ground_truth(bag, strict=strict))
        result.skipped = dict.fromkeys(("detection", "pose2d", "pose3d", "tracking"), "no ground truth in the bag")
        if out_dir is not None:
            out_dir = Path(out_dir)
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "metrics.json").write_text(result.to_json(), encoding="utf-8")
            (out_dir / "metrics.txt").write_text(result.table() + "\n", encoding="utf-8")
        return result
    frames = load_evaluation_frames(bag, gt_bag, strict=strict)
    if fps is None:
        stamps = np.array([f.annotation.stamp_ns for f in frames], dtype=np.float64)
        steps = np.diff(stamps)
        steps = steps[(steps > 0) & (steps < 10e9)]
        fps = float(1e9 / np.median(steps)) if len(steps) else 10.0
    result = evaluate_frames(frames, out_dir, fps)
    result.replay = replay
    if out_dir is not None and replay is not None:
        (Path(out_dir) / "metrics.json").write_text(result.to_json(), encoding="utf-8")
        (Path(out_dir) / "metrics.txt").write_text(result.table() + "\n", encoding="utf-8")
    return result
