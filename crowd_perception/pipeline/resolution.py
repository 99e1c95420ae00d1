"""``bench pipeline``: the one :class:`Pipeline` end to end and per stage at camera resolutions and crowd sizes.

Scenes: the synthetic ``bench`` street preset re-rendered at each size with a fixed number of people
(:func:`crowd_scene`), and folders of real images (:func:`image_scene`, each sub-folder one sequence).
Each scene runs through the nodes' pipeline (shipped params file, their thresholds and tracker) with
fresh tracks; per frame the wall time and the CPU time of every stage (the CPU time of the thread
that ran it) and of the whole frame (the whole process: ONNX Runtime's and the worker's threads too)
are recorded (:func:`time_scene`).

How the pipeline runs is a :class:`Setup`: ONNX Runtime threads per model, the 3D stage overlapped
with the others in a worker thread, the 2D pose RoIs batched in one network call or one call per
person. :data:`SETUPS` are compared on one scene (the A/B table); the sweep runs as the fastest of them.
:func:`resize_ab` compares the letterbox resize of each network on the scenes' frames: OpenCV's area
resize straight from the camera image against :func:`~crowd_perception.runtime.preprocess.area_resize`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..core.camera import PinholeCamera
from ..models.registry import MODELS, load_runner
from ..runtime.preprocess import area_resize
from ..utils.images import image_files as folder_images
from .pipeline import MODEL_STAGES, STAGES, Pipeline

__all__ = [
    "AUTO",
    "Frame",
    "Scene",
    "Setup",
    "SETUPS",
    "ResolutionBenchConfig",
    "crowd_scene",
    "image_scene",
    "load_pipeline",
    "time_scene",
    "sweep",
    "resize_ab",
    "int8_models",
    "run",
    "scene_sizes",
    "IMAGE_SUFFIXES",
]

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
REAL_FPS = 30.0  # stamps of image folders (a video's rate; only the tracker's time step depends on it)


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    stamp_ns: int
    camera: PinholeCamera | None
    sequence: str


@dataclass(frozen=True)
class Scene:
    """Frames timed together; ``people`` is the rendered crowd (None for real images)."""

    label: str
    size: tuple[int, int]  # (width, height)
    people: int | None
    frames: tuple[Frame, ...]


@dataclass(frozen=True)
class Setup:
    """How the pipeline runs on the CPU (see the module docstring)."""

    threads: int = 1  # ONNX Runtime intra-op threads of each model
    overlap_3d: bool = True  # 3D stage in a worker thread beside detector -> 2D pose -> tracker
    pose_batch: int = 128  # 2D pose RoIs per network call (1: one call per person)


SETUPS: dict[str, Setup] = {
    "sequential, 1 thread per model": Setup(overlap_3d=False),
    "sequential, 2 threads per model": Setup(threads=2, overlap_3d=False),
    "3D overlapped, 1 thread per model": Setup(),
    "3D overlapped, 2 threads per model": Setup(threads=2),
    "3D overlapped, 2D pose one RoI per call": Setup(pose_batch=1),
}
AUTO = "auto"  # the sweep runs as the fastest setup of the A/B (as DEFAULT_SETUP without one)
DEFAULT_SETUP = "sequential, 2 threads per model"


def crowd_scene(size: tuple[int, int], people: int, frames: int, seed: int = 0) -> Scene:
    """``frames`` consecutive frames of one ``bench`` street sequence at ``size`` with ``people`` people."""
    from ..synth import generate, get_preset

    base = get_preset("bench")
    camera = dataclasses.replace(base.domain.camera, width=size[0], height=size[1])
    group = dataclasses.replace(
        base.sequences[0], name=f"people{people}", count=1, frames=frames, people=(people, people)
    )
    config = dataclasses.replace(base, domain=dataclasses.replace(base.domain, camera=camera), sequences=(group,))
    out = tuple(
        Frame(s.image, s.annotation.stamp_ns, s.annotation.camera, s.annotation.sequence)
        for s in generate(config, seed=seed)
    )
    return Scene(f"{size[0]}x{size[1]}, {people} people", size, people, out)


def image_scene(folder: Path, min_frames: int = 0) -> Scene:
    """The images of ``folder`` (and of its sub-folders, one sequence each) in name order, no camera info;
    the whole set played again (as new sequences: fresh tracks) until there are ``min_frames``."""
    folder = Path(folder)
    paths = folder_images(folder, recursive=True, suffixes=IMAGE_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {folder}")
    frames: list[Frame] = []
    index: dict[str, int] = {}
    for path in paths:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"{path}: not a readable image")
        sequence = str(path.parent.relative_to(folder))
        i = index[sequence] = index.get(sequence, -1) + 1
        frames.append(Frame(image, round(i * 1e9 / REAL_FPS), None, sequence))
    sizes = sorted({(f.image.shape[1], f.image.shape[0]) for f in frames})
    size_text = ", ".join(f"{w}x{h}" for w, h in sizes)
    plays = max(1, -(-min_frames // len(frames)))
    played = [dataclasses.replace(f, sequence=f"{f.sequence}#{k}") for k in range(plays) for f in frames]
    return Scene(f"real: {folder.name} ({size_text}, {len(frames)} images)", sizes[-1], None, tuple(played))


def load_pipeline(model_dir: Path, variant: str, setup: Setup, backend: str = "onnxruntime") -> Pipeline:
    """The nodes' pipeline on the models of ``model_dir`` (``variant`` "" float, "int8") on ``backend``,
    run as ``setup`` says."""
    runners = {
        name: load_runner(name, MODELS[name].onnx(model_dir, variant), backend=backend, threads=setup.threads)
        for name in MODEL_STAGES
    }
    runners["pose2d"].max_batch = setup.pose_batch
    pipeline = Pipeline.from_config(runners=runners)
    pipeline.overlap_3d = setup.overlap_3d
    return pipeline


def time_scene(pipeline: Pipeline, scene: Scene, warmup: int) -> dict[str, Any]:
    """Median / p99 wall and CPU ms per stage and end to end over the scene's frames after ``warmup``,
    frames per second (timed frames / their total wall time), detections and posed people per frame."""
    wall: dict[str, list[float]] = {name: [] for name in (*STAGES, "total")}
    cpu: dict[str, list[float]] = {name: [] for name in (*STAGES, "total")}
    counts = []
    sequence = None
    for i, frame in enumerate(scene.frames):
        if frame.sequence != sequence:
            pipeline.reset()
            sequence = frame.sequence
        start, start_cpu = time.perf_counter(), time.process_time()
        out = pipeline.run(frame.image, frame.stamp_ns, frame.camera)
        total, total_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        if i < warmup and len(scene.frames) > warmup:
            continue
        for name in STAGES:
            wall[name].append(out.seconds.get(name, 0.0))
            cpu[name].append(out.cpu_seconds.get(name, 0.0))
        wall["total"].append(total)
        cpu["total"].append(total_cpu)
        counts.append(
            (0 if out.detections is None else len(out.detections), 0 if out.poses_2d is None else len(out.poses_2d))
        )
    result: dict[str, Any] = {"frames": len(counts), "fps": len(counts) / float(np.sum(wall["total"]))}
    for kind, values in (("wall", wall), ("cpu", cpu)):
        for name, seconds in values.items():
            ms = np.asarray(seconds) * 1e3
            result[f"{name}_{kind}_median_ms"] = float(np.median(ms))
            result[f"{name}_{kind}_p99_ms"] = float(np.percentile(ms, 99))
    result["detections_mean"], result["posed_mean"] = (float(v) for v in np.mean(counts, axis=0))
    return result


def sweep(pipeline: Pipeline, variant: str, scenes: Iterable[Scene], warmup: int) -> list[dict[str, Any]]:
    """:func:`time_scene` of each scene, as the rows of the sweep table (labelled with ``variant``)."""
    rows = []
    for scene in scenes:
        row = time_scene(pipeline, scene, warmup)
        rows.append({"variant": variant, "scene": scene.label, "people": scene.people, **row})
        log.info("%s %s: %.1f FPS", variant, scene.label, row["fps"])
    return rows


def resize_ab(
    scenes: Iterable[Scene], input_sizes: dict[str, tuple[int, int]], repeats: int = 3
) -> list[dict[str, Any]]:
    """Per network input ``(height, width)`` and camera size: median ms of the letterbox resize in one
    OpenCV call (area when shrinking) and with :func:`area_resize`, and the mean absolute pixel difference."""
    rows = []
    for scene in scenes:
        image = scene.frames[0].image
        src_h, src_w = image.shape[:2]
        for name, (height, width) in input_sizes.items():
            scale = min(height / src_h, width / src_w)
            size = (max(1, round(src_w * scale)), max(1, round(src_h * scale)))
            interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR  # one OpenCV call, as before
            direct_ms, direct = _median_ms(partial(cv2.resize, image, size, interpolation=interpolation), repeats)
            ours_ms, ours = _median_ms(partial(area_resize, image, size), repeats)
            diff = np.abs(direct.astype(np.int16) - ours.astype(np.int16))
            rows.append(
                {
                    "scene": f"{src_w}x{src_h}",
                    "model": name,
                    "input": f"{size[0]}x{size[1]}",
                    "direct_ms": direct_ms,
                    "area_resize_ms": ours_ms,
                    "mean_abs_diff": float(diff.mean()),
                }
            )
    return rows


def _median_ms(fn: Callable[[], np.ndarray], repeats: int) -> tuple[float, np.ndarray]:
    """Median wall ms of ``repeats`` calls of ``fn`` and its (last) result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3), out


def network_input_sizes(model_dir: Path) -> dict[str, tuple[int, int]]:
    """``(height, width)`` each network letterboxes the camera image to (from its metadata)."""
    from ..runtime.metadata import ModelMetadata, metadata_path

    sizes = {}
    for name in MODEL_STAGES:
        meta = ModelMetadata.load(metadata_path(MODELS[name].onnx(model_dir)))
        if meta.input_size is not None:
            sizes[name] = (int(meta.input_size[0]), int(meta.input_size[1]))
    return sizes


def load_average() -> float:
    """1-minute load average (other work on the shared machine inflates wall times)."""
    return os.getloadavg()[0]


def scene_sizes(text: Sequence[str]) -> list[tuple[int, int]]:
    """``["960x540", ...]`` as ``[(960, 540), ...]``."""
    sizes = []
    for item in text:
        width, _, height = item.lower().partition("x")
        if not (width.isdigit() and height.isdigit()) or int(width) < 16 or int(height) < 16:
            raise ValueError(f"a size is WIDTHxHEIGHT (at least 16x16), got {item!r}")
        sizes.append((int(width), int(height)))
    return sizes


# ------------------------------------------------------------------ the whole bench
@dataclass(frozen=True)
class ResolutionBenchConfig:
    sizes: tuple[tuple[int, int], ...] = ((960, 540), (1920, 1080))
    people: tuple[int, ...] = (10, 40, 80)
    frames: int = 20  # timed frames per scene
    warmup: int = 3
    real: tuple[Path, ...] = ()  # image folders
    variants: tuple[str, ...] = ("fp32", "int8")
    setup: str = AUTO  # how the sweep runs: a name of SETUPS or AUTO
    ab_scene: tuple[int, int, int] | None = (960, 540, 40)  # width, height, people of the A/B (None: no A/B)
    seed: int = 0


def int8_models(weights_dir: Path, int8_dir: Path, calibration_frames: int = 8) -> Path:
    """``int8_dir`` holding ``<model>.int8.onnx`` of every pipeline model, made by ``export --int8``'s
    :func:`~crowd_perception.models.int8.export_int8` from ``weights_dir``'s float models where missing."""
    import shutil

    from ..models.int8 import export_int8

    int8_dir.mkdir(parents=True, exist_ok=True)
    for name in MODEL_STAGES:
        if MODELS[name].onnx(int8_dir, "int8").is_file():
            continue
        for suffix in (".onnx", ".json"):
            shutil.copy2(MODELS[name].onnx(weights_dir).with_suffix(suffix), int8_dir)
        log.info("quantising %s to INT8 in %s", name, int8_dir)
        export_int8(name, int8_dir, calibration_frames)
    return int8_dir


def run(config: ResolutionBenchConfig, weights_dir: Path, int8_dir: Path) -> dict[str, Any]:
    """The A/B of :data:`SETUPS` on one scene, then every scene with every variant (the sweep) run as
    ``config.setup`` (:data:`AUTO`: the A/B's fastest), then the resize A/B."""
    scenes = [
        crowd_scene(size, n, config.frames + config.warmup, config.seed) for size in config.sizes for n in config.people
    ]
    scenes += [image_scene(folder, config.frames + config.warmup) for folder in config.real]
    dirs = {"fp32": weights_dir, "int8": int8_dir}
    result: dict[str, Any] = {"config": _jsonable(config), "load_average_start": load_average(), "sweep": [], "ab": []}
    if config.ab_scene is not None:
        width, height, people = config.ab_scene
        scene = next((s for s in scenes if s.size == (width, height) and s.people == people), None)
        scene = scene or crowd_scene((width, height), people, config.frames + config.warmup, config.seed)
        for name, setup in SETUPS.items():
            row = time_scene(load_pipeline(weights_dir, "", setup), scene, config.warmup)
            result["ab"].append({"setup": name, "scene": scene.label, **row})
            log.info("A/B %s: %.1f FPS", name, row["fps"])
    fastest = max(result["ab"], key=lambda r: r["fps"])["setup"] if result["ab"] else DEFAULT_SETUP
    result["setup"] = fastest if config.setup == AUTO else config.setup
    for variant in config.variants:
        pipeline = load_pipeline(dirs[variant], "" if variant == "fp32" else "int8", SETUPS[result["setup"]])
        result["sweep"] += sweep(pipeline, variant, scenes, config.warmup)
    by_size = {s.size: s for s in scenes}
    result["resize"] = resize_ab(by_size.values(), network_input_sizes(weights_dir))
    result["load_average_end"] = load_average()
    return result


def _jsonable(config: ResolutionBenchConfig) -> dict[str, Any]:
    out = dataclasses.asdict(config)
    out["real"] = [str(p) for p in config.real]
    return out
