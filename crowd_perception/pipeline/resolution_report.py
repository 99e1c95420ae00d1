"""The RESULTS section ``pipeline-resolution`` of ``bench pipeline`` (:mod:`.resolution`): tables and the
verdict on the issue's goals, computed from the measured figures.

Goals (2 CPU cores): at least :data:`GOAL_FPS` frames per second end to end at 960x540 with 40 people;
from 10 to 80 people the latency of detector + 3D grows at most :data:`GOAL_MODEL_GROWTH` times and
the whole chain's at most :data:`GOAL_CHAIN_GROWTH` times (wall-time medians).
"""

from __future__ import annotations

from typing import Any

from ..utils.results import markdown_table
from .pipeline import STAGES
from .resolution import AUTO, SETUPS

__all__ = ["render", "GOAL_FPS", "GOAL_MODEL_GROWTH", "GOAL_CHAIN_GROWTH"]

GOAL_FPS = 10.0
GOAL_MODEL_GROWTH = 1.5
GOAL_CHAIN_GROWTH = 3.0
GOAL_SCENE = "960x540, 40 people"
VARIANTS_TEXT = "fp32: the shipped models; int8: their Q/DQ models of `crowd-perception export --int8`."


def _stage_cells(row: dict[str, Any]) -> list[str]:
    return [f"{row[f'{s}_wall_median_ms']:.1f} / {row[f'{s}_cpu_median_ms']:.1f}" for s in STAGES]


def _timing_cells(row: dict[str, Any]) -> list[object]:
    return [
        round(row["detections_mean"], 1),
        round(row["posed_mean"], 1),
        row["fps"],
        f"{row['total_wall_median_ms']:.1f} / {row['total_wall_p99_ms']:.1f}",
        row["total_cpu_median_ms"],
        *_stage_cells(row),
    ]


_TIMING_HEADER = [
    "det./frame",
    "posed/frame",
    "FPS",
    "end-to-end wall ms (med / p99)",
    "end-to-end CPU ms (med)",
    *(f"{s} wall / CPU ms" for s in STAGES),
]


def growth(sweep: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per variant and camera size with both 10 and 80 people: latency at 80 over latency at 10."""
    out = []
    rows = {(r["variant"], r["scene"]): r for r in sweep if r["people"] is not None}
    for (variant, scene), low in rows.items():
        if not scene.endswith(", 10 people"):
            continue
        high = rows.get((variant, scene.replace(", 10 people", ", 80 people")))
        if high is None:
            continue
        models = [(r["detector_wall_median_ms"] + r["pose3d_wall_median_ms"]) for r in (low, high)]
        models_cpu = [(r["detector_cpu_median_ms"] + r["pose3d_cpu_median_ms"]) for r in (low, high)]
        out.append(
            {
                "variant": variant,
                "size": scene.split(",")[0],
                "models": models[1] / models[0],
                "models_cpu": models_cpu[1] / models_cpu[0],
                "chain": high["total_wall_median_ms"] / low["total_wall_median_ms"],
                "chain_cpu": high["total_cpu_median_ms"] / low["total_cpu_median_ms"],
            }
        )
    return out


def _verdict(result: dict[str, Any]) -> str:
    goal = next((r for r in result["sweep"] if r["variant"] == "fp32" and r["scene"] == GOAL_SCENE), None)
    parts = []
    if goal is not None:
        slowest = max(STAGES, key=lambda s: goal[f"{s}_wall_median_ms"])
        reached = "reached" if goal["fps"] >= GOAL_FPS else f"missed; the stage that holds it: {slowest}"
        parts.append(f"{GOAL_SCENE} (fp32): {goal['fps']:.1f} FPS end to end, goal >= {GOAL_FPS:.0f}: {reached}.")
    for g in growth(result["sweep"]):
        ok_models, ok_chain = g["models"] <= GOAL_MODEL_GROWTH, g["chain"] <= GOAL_CHAIN_GROWTH
        parts.append(
            f"{g['size']} {g['variant']}, 10 -> 80 people: detector + 3D x{g['models']:.2f} "
            f"(goal <= {GOAL_MODEL_GROWTH}: {'yes' if ok_models else 'no'}), whole chain x{g['chain']:.2f} "
            f"(goal <= {GOAL_CHAIN_GROWTH:.0f}: {'yes' if ok_chain else 'no'})."
        )
    return " ".join(parts)


def _ab_note(ab: list[dict[str, Any]]) -> str:
    """Which setup helped: each one's FPS against the sequential, 1-thread baseline."""
    baseline = next((r for r in ab if r["setup"] == next(iter(SETUPS))), None)
    if baseline is None:
        return ""
    changes = [f"{r['setup']} {r['fps'] / baseline['fps']:.2f}x" for r in ab if r is not baseline]
    return (
        f"FPS relative to '{baseline['setup']}' ({baseline['fps']:.1f} FPS): " + ", ".join(changes) + " (> 1: helped)."
    )


def render(result: dict[str, Any]) -> str:
    """The section body: setup text, the sweep, the growth, the A/B tables and the verdict."""
    cfg = result["config"]
    text = [
        "The one `Pipeline` of the nodes (`config/crowd_perception.yaml`: their thresholds, the tracker; fresh "
        f"tracks per scene) on {result.get('backend', 'ONNX Runtime (CPU)')}, end to end and per stage. "
        "Synthetic scenes: one street sequence "
        f"of the `bench` preset re-rendered at each size with a fixed number of people, {cfg['warmup']} warm-up "
        f"and {cfg['frames']} timed consecutive frames each; real: the image folders given "
        "(every image, no camera info: 3D poses root-relative). Per stage: wall time and the CPU time of the "
        "thread that ran it; end to end: wall time and the whole process's CPU time (all threads), per frame. "
        f"FPS = timed frames / their total wall time. Sweep setup: '{result['setup']}'"
        + (" (the fastest of the A/B below)" if cfg["setup"] == AUTO and result["ab"] else "")
        + f". {result.get('variants', VARIANTS_TEXT)} 1-minute load average "
        f"{result['load_average_start']:.1f} at the start, {result['load_average_end']:.1f} at the end "
        "(other work on the 2 shared cores inflates wall times, not CPU times).",
        "",
        markdown_table(
            ["variant", "scene", *_TIMING_HEADER],
            [[r["variant"], r["scene"], *_timing_cells(r)] for r in result["sweep"]],
        ),
    ]
    rows = growth(result["sweep"])
    if rows:
        text += [
            "",
            "Latency growth from 10 to 80 people (median at 80 / median at 10):",
            "",
            markdown_table(
                ["variant", "size", "detector + 3D wall", "detector + 3D CPU", "whole chain wall", "whole chain CPU"],
                [[g["variant"], g["size"], g["models"], g["models_cpu"], g["chain"], g["chain_cpu"]] for g in rows],
            ),
        ]
    if result["ab"]:
        text += [
            "",
            f"A/B on {result['ab'][0]['scene']} (fp32), the same frames for each setup:",
            "",
            markdown_table(["setup", *_TIMING_HEADER], [[r["setup"], *_timing_cells(r)] for r in result["ab"]]),
            "",
            _ab_note(result["ab"]),
        ]
    if result.get("resize"):
        text += [
            "",
            "Pre-processing A/B: the letterbox resize of each network's input from the camera image, "
            "one OpenCV resize (area when shrinking, as the runners did) vs `runtime.preprocess.area_resize` (halve with the 2x area path "
            "while at least twice the target, then area-resize; what the runners use), median of 3, and the "
            "mean absolute difference of the two results in grey levels. The colour conversion and "
            "normalisation come after the resize (on the network-sized image), so their cost does not grow "
            "with the camera resolution.",
            "",
            markdown_table(
                ["camera", "model", "resized to", "direct ms", "area_resize ms", "mean abs diff"],
                [
                    [r["scene"], r["model"], r["input"], r["direct_ms"], r["area_resize_ms"], r["mean_abs_diff"]]
                    for r in result["resize"]
                ],
            ),
        ]
    text += ["", _verdict(result)]
    return "\n".join(text)
