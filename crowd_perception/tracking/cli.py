"""``crowd-perception evaluate tracking``, ``bench-tracking``, ``bench tracking-peers`` and ``ablation tracking``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..utils.commands import Command

if TYPE_CHECKING:  # the command line imports the tracker only when a command runs
    from .ablation import GroundTruthSequence
    from .config import TrackerConfig

_LOG = logging.getLogger(__name__)
_SINGLE_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# ---------------------------------------------------------------- evaluate tracking
def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gt", required=True, type=Path, help="MOTChallenge folder: <seq>/gt/gt.txt + seqinfo.ini")
    parser.add_argument("--pred", required=True, type=Path, help="folder with one <seq>.txt results file per sequence")
    parser.add_argument(
        "--benchmark",
        default="auto",
        choices=["auto", "MOT15", "MOT16", "MOT17", "MOT20"],
        help="TrackEval preprocessing (auto: MOT17 for 9-column gt, else MOT15)",
    )
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")


def _evaluate(args: argparse.Namespace) -> int:
    from ..eval.tracking import evaluate_mot, format_table

    report = evaluate_mot(args.gt, args.pred, args.benchmark)
    print(format_table(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(report.to_json(), encoding="utf-8")
    return 0


# ---------------------------------------------------------------- bench tracking
def _bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--people", type=int, nargs="+", default=[10, 50, 200, 500])
    parser.add_argument("--frames", type=int, default=300, help="timed frames per crowd size")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per crowd size; the one with the lowest median is kept"
    )
    parser.add_argument("--memory-frames", type=int, default=100_000, help="length of the memory stream (0: skip)")
    parser.add_argument("--profiles", nargs="+", default=["jde", "default"])
    parser.add_argument("--no-results", action="store_true", help="do not write docs/RESULTS.md")


def _single_core() -> None:
    """Pin to one CPU and make sure BLAS runs one thread (re-executes once if it would not)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    if any(os.environ.get(v) != "1" for v in _SINGLE_THREAD_ENV):
        _LOG.info("re-running with %s=1 so that BLAS uses one thread", "/".join(_SINGLE_THREAD_ENV))
        env = {**os.environ, **dict.fromkeys(_SINGLE_THREAD_ENV, "1")}
        entry = "import sys; from crowd_perception.cli import main; sys.exit(main())"
        os.execve(sys.executable, [sys.executable, "-c", entry, *sys.argv[1:]], env)


def _bench(args: argparse.Namespace) -> int:
    _single_core()
    from ..utils.results import markdown_table, update_results_section
    from .bench import association_times, memory_profile
    from .config import get_profile

    timing_rows, memory_rows = [], []
    for name in args.profiles:
        config = get_profile(name)
        for people in args.people:
            runs = [association_times(config, people, frames=args.frames) for _ in range(args.repeats)]
            r = min(runs, key=lambda run: run.cpu_median_ms)
            _LOG.info("%s, %d people: %s", name, people, r)
            timing_rows.append(
                [
                    name,
                    people,
                    round(r.mean_detections, 1),
                    r.cpu_median_ms,
                    r.cpu_p99_ms,
                    r.wall_median_ms,
                    r.wall_p99_ms,
                ]
            )
        if args.memory_frames:
            samples = memory_profile(config, frames=args.memory_frames)
            _LOG.info("%s memory: %s", name, samples)
            first, last = samples[0], samples[-1]
            memory_rows.append(
                [
                    name,
                    config.bounded_memory,
                    f"{first.frame:,} -> {last.frame:,}",
                    f"{first.tracker_bytes / 1024:.1f} -> {last.tracker_bytes / 1024:.1f}",
                    f"{first.rss_bytes / 2**20:.1f} -> {last.rss_bytes / 2**20:.1f}",
                    f"{first.removed_ids} -> {last.removed_ids}",
                ]
            )
    body = (
        "Association time per frame: `Tracker.update` (Kalman predict/update, gating, cost matrices, "
        "assignment, bookkeeping) on a simulated crowd (`crowd_perception.tracking.simulation`, 3840x2160, "
        "perturbation-model detections: 5 % misses, 1 false positive per frame, 128-D embeddings), one core, "
        f"BLAS single-threaded, {args.frames} timed frames after 30 warm-up frames, best of {args.repeats} runs "
        "(the run with the lowest median CPU time, to damp interference from other jobs). "
        "Goals: <= 1 ms at 50 people, "
        "<= 10 ms at 500. CPU time is the time the tracker's thread spent on a core (what the goals are about on "
        "this shared machine); wall time also counts waiting for the core "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores when the run ended).\n\n"
        + markdown_table(
            ["profile", "people", "detections/frame", "CPU median ms", "CPU p99 ms", "wall median ms", "wall p99 ms"],
            timing_rows,
        )
    )
    if memory_rows:
        body += (
            f"\n\nMemory over a {args.memory_frames:,}-frame stream of 10 people with identity churn (mean lifetime "
            "5 s, so thousands of tracks are created and removed), after the first and the last tenth of the "
            "stream: bytes held by the tracker (track arrays and the removed-id list) and the resident set size "
            "of the whole process.\n\n"
            + markdown_table(
                ["profile", "bounded_memory", "frames", "tracker KiB", "process RSS MiB", "removed ids kept"],
                memory_rows,
            )
        )
    print(body)
    if not args.no_results:
        update_results_section("tracking-speed", "Tracking: association speed and memory", body)
    return 0


# ---------------------------------------------------------------- ablation tracking
def _ablate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        default="bench",
        choices=["bench", "sim", "detector"],
        help="the synth 'bench' preset or the boxes-only crowd simulation through the perturbation model, "
        "or the synth 'bench' preset through the detector (--model)",
    )
    parser.add_argument(
        "--model", type=Path, default=None, help="detector for --source detector (default: the shipped detector.onnx)"
    )
    parser.add_argument(
        "--max-frames", type=int, default=None, help="--source detector: only the first N frames of each sequence"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--operating-points",
        nargs="+",
        default=None,
        metavar="DET:NEW",
        help="instead of the switches: the default profile at each detection_threshold:new_track_threshold "
        "(choose the tracker node's operating point on the detector's own score distribution)",
    )
    parser.add_argument("--conditions", nargs="+", default=None, help="subset of: nominal dropped pan")
    parser.add_argument("--json", type=Path, help="also write all reports as JSON here")
    parser.add_argument("--no-results", action="store_true", help="do not write docs/RESULTS.md")


def _ablation_variants() -> dict[str, TrackerConfig]:
    from .config import get_profile

    jde, default = get_profile("jde"), get_profile("default")
    return {
        "jde": jde,
        "jde + time_based": jde.replace(time_based=True),
        "jde + byte": jde.replace(byte=True),
        "jde + cosine gate": jde.replace(appearance_metric="cosine", appearance_gate=default.appearance_gate),
        "jde + camera_motion": jde.replace(camera_motion=True),
        "jde + iou_lost_tracks": jde.replace(iou_lost_tracks=True),
        "jde + report_detection_boxes": jde.replace(report_detection_boxes=True),
        "default (all)": default,
    }


def _operating_point_variants(points: list[str]) -> dict[str, TrackerConfig]:
    """``{"det 0.5 / new 0.6": default profile with those thresholds}`` from ``DET:NEW`` strings."""
    from ..core.errors import InputError
    from .config import get_profile

    default, variants = get_profile("default"), {}
    for point in points:
        det, colon, new = point.partition(":")
        try:
            detection, new_track = float(det), float(new)
        except ValueError:
            raise InputError(f"--operating-points {point!r}: expected DET:NEW, e.g. 0.6:0.7") from None
        if not colon or not 0 <= detection <= new_track <= 1:
            raise InputError(f"--operating-points {point!r}: expected 0 <= DET <= NEW <= 1")
        variants[f"det {detection:g} / new {new_track:g}"] = default.replace(
            detection_threshold=detection, new_track_threshold=new_track
        )
    return variants


def _detector_ground_truth(args: argparse.Namespace) -> tuple[list[GroundTruthSequence], str]:
    """The synth ``bench`` sequences with the detector's output on every frame, and its detection quality."""
    from ..eval.detection import evaluate_detections
    from ..models.registry import get_model, load_runner
    from ..synth import generate, get_preset
    from .ablation import detect_samples, from_annotations

    detector = load_runner("detector", args.model or get_model("detector").onnx(), "onnxruntime", threads=1)
    annotations, detections = detect_samples(generate("bench", seed=args.seed), detector.detect, args.max_frames)
    per_image = [detections[a.image_id] for a in annotations]
    quality = []
    for subset in ("all", "reasonable"):
        m = evaluate_detections(per_image, annotations, subset)
        quality.append(f"{subset}: AP50 {m.ap:.3f}, recall {m.recall:.3f}, MR^-2 {m.mr2:.3f}")
    return from_annotations(annotations, get_preset("bench").fps, detections), "; ".join(quality)


def _ground_truth(source: str, seed: int) -> list[GroundTruthSequence]:
    from .ablation import GroundTruthFrame, GroundTruthSequence, from_annotations

    if source == "bench":
        from ..synth import generate, get_preset

        return from_annotations((s.annotation for s in generate("bench", seed=seed)), get_preset("bench").fps)
    from .simulation import simulate_crowd

    sequences = []
    for i, people in enumerate((10, 30, 60, 100)):
        frames = tuple(
            GroundTruthFrame(f.stamp_ns, f.boxes, f.ids, f.visible_fractions)
            for f in simulate_crowd(people, 300, seed=seed + i, mean_lifetime_s=8.0)
        )
        sequences.append(GroundTruthSequence(f"sim_{people:03d}", 30.0, 1920, 1080, frames))
    return sequences


def _source_description(args: argparse.Namespace, sequences: int, frames: int, quality: str) -> str:
    """The first sentences of the RESULTS section: where the detections came from."""
    if args.source == "detector":
        model = args.model or "crowd_perception/weights/detector.onnx"
        limit = f"the first {args.max_frames} frames of each sequence" if args.max_frames else "every frame"
        return (
            f"Tracker fed by the detector `{model}` and its JDE embeddings (ONNX Runtime, 1 thread, run once per "
            f"frame and shared by all variants) on {sequences} sequences of the synth `bench` preset ({limit}, "
            f"{frames} frames, 10 fps, four crowd densities); ground truth and scoring as in the `bench` ablation. "
            "The shipped detector is the short CPU-trained default (see `detector-bench`); its detection quality "
            f"on exactly these frames (`crowd_perception.eval.detection`, CityPersons subsets): {quality}. "
            "Absolute numbers are bounded by this detector. The `pan` condition moves the detector's boxes with "
            "the same homography as the ground truth (the images are not re-rendered)."
        )
    data = (
        "the synth `bench` preset, 10 fps, four crowd densities"
        if args.source == "bench"
        else "boxes-only crowd simulation, 30 fps"
    )
    return (
        f"Association alone on {sequences} sequences ({frames} frames, source `{args.source}`: {data}), fed "
        "ground-truth boxes through the seeded perturbation model of `crowd_perception.tracking.perturbation` "
        "(misses growing with occlusion, box noise, occlusion-dependent scores, ~1 false positive per frame, 128-D "
        "identity embeddings with occlusion-dependent noise). With the real detector: the "
        "`tracking-ablation-detector` section."
    )


def _ablate(args: argparse.Namespace) -> int:
    import numpy as np

    from ..utils.results import markdown_table, update_results_section
    from .ablation import CONDITIONS, DROP_RATE, apply_condition, detection_identities, run_ablation
    from .calibration import equal_error_threshold
    from .config import get_profile
    from .perturbation import DetectionPerturbation, PerturbationConfig

    conditions = args.conditions or list(CONDITIONS)
    if args.source == "detector":
        sequences, quality = _detector_ground_truth(args)
    else:
        sequences, quality = _ground_truth(args.source, args.seed), ""
    # Calibration of the cosine gate on the embeddings the tracker gets (the nominal condition):
    # the detector's, labelled by IoU >= 0.5 matching to the ground truth, or the perturbation model's.
    feats, ids = [], []
    for i, seq in enumerate(sequences):
        perturb = DetectionPerturbation(seed=args.seed + i)
        for f in apply_condition(seq, "nominal", args.seed + i).frames:
            if f.detections is not None:
                dets, source_ids = f.detections, detection_identities(f.boxes, f.ids, f.detections.boxes)
            else:
                dets, source_ids = perturb(f.boxes, f.ids, f.visible, seq.width, seq.height)
            feats.append(dets.embeddings)
            ids.append(source_ids + 1_000_000 * i * (source_ids >= 0))
    try:
        threshold, eer = equal_error_threshold(np.concatenate(feats), np.concatenate(ids), "cosine")
        calibration = f"{threshold:.3f} (EER {eer:.3f})"
    except ValueError as exc:  # e.g. a detector whose boxes match fewer than two people
        calibration = f"not measurable ({exc})"
    _LOG.info("cosine equal-error threshold: %s", calibration)

    variants = _operating_point_variants(args.operating_points) if args.operating_points else _ablation_variants()
    reports = run_ablation(sequences, variants, conditions, PerturbationConfig(), seed=args.seed)
    header = ["variant"]
    for condition in conditions:
        header += [f"{condition} HOTA", f"{condition} IDF1", f"{condition} MOTA", f"{condition} IDSW"]
    rows: list[list[object]] = []
    for name in variants:
        row: list[object] = [name]
        for condition in conditions:
            m = reports[name, condition].combined
            row += [m["HOTA"], m["IDF1"], m["MOTA"], m["IDSW"]]
        rows.append(row)
    frames = sum(len(s.frames) for s in sequences)
    gate = get_profile("default").appearance_gate
    body = (
        _source_description(args, len(sequences), frames, quality)
        + " People less than 10 % visible are scored as distractors. Metrics from TrackEval (HOTA, IDF1, MOTA in %, "
        f"IDSW count). Conditions: `nominal`; `dropped`: {DROP_RATE:.0%} of frames never reach the tracker (and are "
        "not scored); `pan`: an added camera pan/zoom whose image-plane homography is given to the tracker. "
        f"Frame-counting variants run with the sequence frame rate and JDE's buffer `int(fps / 30 * 30)`. "
        f"Cosine gate of the profiles: {gate}; equal-error threshold of these embeddings: {calibration}.\n\n"
        + markdown_table(header, rows)
    )
    print(body)
    if args.json:
        payload = {f"{v} / {c}": json.loads(r.to_json()) for (v, c), r in reports.items()}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    if not args.no_results:
        section, title = (
            ("tracking-operating-points", "the tracker node's operating point")
            if args.operating_points
            else ("tracking-ablation", "ablation of the association switches")
        )
        update_results_section(f"{section}-{args.source}", f"Tracking: {title} ({args.source})", body)
    return 0


# ---------------------------------------------------------------- bench tracking-peers
def _peers_arguments(parser: argparse.ArgumentParser) -> None:
    from .peers import PEERS

    parser.add_argument("--peers", nargs="+", choices=list(PEERS), default=list(PEERS), help="peer trackers to run")
    parser.add_argument("--profile", default="default", help="our tracker profile; its thresholds are given to peers")
    parser.add_argument("--people", type=int, nargs="+", default=[10, 50, 200, 500])
    parser.add_argument("--frames", type=int, default=300, help="timed frames per crowd size")
    parser.add_argument("--repeats", type=int, default=3, help="runs per tracker and size; the lowest median is kept")
    parser.add_argument(
        "--source", default="bench", choices=["bench", "sim", "detector"], help="accuracy sequences (as ablation)"
    )
    parser.add_argument("--model", type=Path, default=None, help="detector for --source detector")
    parser.add_argument("--max-frames", type=int, default=None, help="--source detector: first N frames per sequence")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the TrackEval reports as JSON here")
    parser.add_argument("--results", action="store_true", help="write the section tracking-peers of docs/RESULTS.md")


def _peers(args: argparse.Namespace) -> int:
    _single_core()
    from ..utils.results import update_results_section
    from .config import get_profile
    from .peer_bench import OURS, peer_reports, peer_times, render
    from .peers import INSTALL, unavailable, versions

    config = get_profile(args.profile)
    missing = {name: reason for name in args.peers if (reason := unavailable(name))}
    for name, reason in missing.items():
        _LOG.warning("peer %s not run: %s (install the peers with: %s)", name, reason, INSTALL)
    names = [OURS, *(name for name in args.peers if name not in missing)]
    if args.source == "detector":
        sequences, quality = _detector_ground_truth(args)
    else:
        sequences, quality = _ground_truth(args.source, args.seed), ""
    reports = peer_reports(names, config, sequences, args.seed)
    times = peer_times(names, config, args.people, frames=args.frames, repeats=args.repeats, seed=args.seed)
    tables, verdict = render(names, times, reports, args.people)
    not_run = "".join(f" Not run: `{name}` ({reason})." for name, reason in missing.items())
    ran = ", ".join(f"`{name}`: {versions(name)}" for name in names if name != OURS)
    frames = sum(len(s.frames) for s in sequences)
    body = (
        f"Our tracker (profile `{args.profile}`) and peer trackers on identical detection + embedding streams, "
        "through `crowd_perception.tracking.peers` (each peer's documented defaults, except the frame rate, "
        f"the stream's, and the score thresholds, ours: {config.detection_threshold} for high-confidence "
        f"detections and new tracks, {config.byte_low_threshold} as the low-confidence floor where a peer has one; "
        "`supervision-bytetrack` is `trackers.ByteTrackTracker` on `supervision` `Detections`, since supervision "
        "0.31 no longer ships `sv.ByteTrack`; `norfair`: IoU distance, threshold 0.7, no ReID; `boxmot-botsort` "
        "gets our embeddings and no camera-motion compensation, the stream has no images)."
        + (f" Versions: {ran}." if ran else "")
        + not_run
        + "\n\nSpeed: CPU time of each tracker's own update call per frame (input conversion done before the "
        "clock starts), on the tracking speed benchmark's stream (`crowd_perception.tracking.bench.crowd_stream`: "
        "simulated 3840x2160 crowd at 30 fps, perturbation-model detections with 5 % misses, 1 false positive per "
        f"frame and 128-D embeddings), one core, BLAS single-threaded, {args.frames} timed frames after 30 warm-up "
        f"frames, best of {args.repeats} runs interleaved across trackers; ratios > 1 mean the peer is slower "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores when the run ended). Accuracy: one "
        "TrackEval call per tracker (HOTA, IDF1, MOTA in %, IDSW count) on the same nominal sequences and "
        "detections as the tracking ablation: "
        + _source_description(args, len(sequences), frames, quality)
        + f"\n\n{tables}\n\n{verdict}"
    )
    print(body)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({n: json.loads(r.to_json()) for n, r in reports.items()}, indent=1), "utf-8")
    if args.results:
        update_results_section("tracking-peers", "Tracking: ours and peer trackers on the same streams", body)
    return 0


COMMANDS = [
    Command(
        ("evaluate", "tracking"),
        "HOTA / MOTA / IDF1 of MOTChallenge results with TrackEval",
        _evaluate_arguments,
        _evaluate,
    ),
    # ``bench`` alone is the runtime's model benchmark (a leaf command), hence one word here.
    Command(("bench-tracking",), "association time per frame and memory of the tracker", _bench_arguments, _bench),
    Command(
        ("ablation", "tracking"), "effect of each tracker switch on GT-fed association", _ablate_arguments, _ablate
    ),
    Command(
        ("bench", "tracking-peers"),
        "our tracker vs supervision/norfair/boxmot trackers: speed and TrackEval on the same streams",
        _peers_arguments,
        _peers,
    ),
]
