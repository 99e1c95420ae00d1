"""Hardening-probe cases about models and the runtime: faulty model files and metadata, non-finite
network outputs, an unwritable engine cache, a flood of detections for the tracker.

Each case builds its faulty input from the shipped models (copies in the probe's folder, never the
shipped files) and runs what a user runs: ``replay`` on the command line for model files, the
replay library with the shipped detector whose forward pass is made to overflow, the engine-cache
policy and the tracker directly. Classified as in :mod:`crowd_perception.cli.probe`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .probe import Outcome, _cli, _error_outcome

__all__ = ["engine_cache_case", "model_file_case", "network_output_case", "tracker_flood_case"]

ModelEdit = Callable[[Path], Path]  # edits the copied model folder, returns the model_path to configure


def _shipped_detector_copy(folder: Path) -> Path:
    from ..models.registry import get_model

    folder.mkdir(parents=True)
    shipped = get_model("detector").onnx()
    model = folder / shipped.name
    shutil.copyfile(shipped, model)
    shutil.copyfile(shipped.with_suffix(".json"), model.with_suffix(".json"))
    return model


def _edit_json(model: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    path = model.with_suffix(".json")
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def _resign(model: Path) -> None:
    """The metadata's sha256 made to match an edited ONNX file (as a user's own export would)."""
    from ..runtime.metadata import sha256_file

    _edit_json(model, lambda data: data.update(sha256=sha256_file(model)))


def nan_weight(model: Path) -> Path:
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(model))
    tensor = max(proto.graph.initializer, key=lambda t: int(np.prod(t.dims)))
    values = numpy_helper.to_array(tensor).copy()
    values.flat[0] = np.nan
    tensor.CopyFrom(numpy_helper.from_array(values, tensor.name))
    onnx.save(proto, str(model))
    _resign(model)
    return model


def swapped_colour_order(model: Path) -> Path:
    """A model exported with the current export (input size and normalisation recorded in the graph),
    whose metadata JSON then says BGR instead of RGB."""
    import onnx

    from ..runtime.metadata import ModelMetadata
    from ..runtime.model_check import recorded_properties

    proto = onnx.load(str(model))
    for key, value in recorded_properties(ModelMetadata.load(model.with_suffix(".json"))).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(model))
    _resign(model)
    _edit_json(model, lambda data: data["normalization"].update(color="bgr"))
    return model


def string_input_size(model: Path) -> Path:
    _edit_json(model, lambda data: data.update(input_size=[str(v) for v in data["input_size"]]))
    return model


def unknown_postprocess_key(model: Path) -> Path:
    _edit_json(model, lambda data: data["extra"]["postprocess"].update(nms_iuo=0.5))
    return model


def non_json_safetensors_config(model: Path) -> Path:
    from safetensors.numpy import save_file

    weights = model.with_suffix(".safetensors")
    save_file({"w": np.zeros(1, np.float32)}, str(weights), metadata={"config": "{model: detector"})
    return weights


def model_file_case(folder: Path, bag: Path, case: str, edit: ModelEdit) -> Outcome:
    """``replay --stages detector`` with the detector's ``model_path`` set to an edited copy of the shipped model."""
    model_path = edit(_shipped_detector_copy(folder))
    params = folder / "params.yaml"
    params.write_text(f"/**/detector_node:\n  ros__parameters:\n    model_path: {model_path}\n")
    code, _, err = _cli(["replay", "--bag", str(bag), "--out", str(folder / "out"), "--stages", "detector",
                         "--config", str(params)])
    outcome, detail = _error_outcome(code, err)
    return Outcome("model file", case, outcome, detail=detail)


def network_output_case(out: Path, bag: Path, case: str, value: float, frames: int) -> Outcome:
    """The shipped detector whose forward pass gives ``value`` (NaN, +inf: FP16 overflow) in its box output."""
    from ..pipeline import Pipeline
    from ..ros.bag import OUTPUT_TOPICS, BagReader
    from ..ros.replay import replay_bag

    pipeline = Pipeline.from_config(stages=("detector", "tracker"))
    if pipeline.detector is None:
        raise RuntimeError("the probe's pipeline has no detector stage")
    runner: Any = pipeline.detector.runner  # the case reaches into the shipped runner's backend
    backend = runner.backend
    forward = backend._run

    def overflowing(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outputs = dict(forward(feeds))
        name = next(n for n in outputs if "box" in n)
        outputs[name] = np.full_like(outputs[name], value)
        return outputs

    backend._run = overflowing
    report = replay_bag(bag, out, pipeline)
    with BagReader(out) as reader:
        people = sum(len(msg.detections) for _, msg in reader.read(OUTPUT_TOPICS["detections"]))
        written = sum(1 for _ in reader.read(OUTPUT_TOPICS["detections"]))
    ok = report.non_finite.get("detector") == frames and people == 0 and report.processed == frames
    line = next((x for x in report.summary().splitlines() if "non-finite" in x), "")
    return Outcome("network output", case, "handled" if ok else "silently wrong", frames, written,
                   f"{line}; {people} detections published")


def engine_cache_case(tmp: Path) -> Outcome:
    """The engine-cache policy (TensorRT is not installed here: its CPU side, with stand-in build and load)."""
    from ..runtime.backends.engine_cache import BuildConfig, EngineKey, engine_path, load_or_build

    blocker = tmp / "engine_cache_is_a_file"
    blocker.write_text("not a folder")
    key = EngineKey("ab" * 32, BuildConfig().digest(), "10.7.0", "probe GPU", "9.0", "x86_64")
    try:
        engine, built = load_or_build(engine_path(blocker / "engines", "detector", "fp16"), key,
                                      build=lambda: b"engine", deserialize=lambda data: data.decode())
    except OSError as exc:
        return Outcome("engine cache", "engine cache folder not writable", "crash", detail=f"{type(exc).__name__}: {exc}")
    ok = (engine, built) == ("engine", True)
    return Outcome("engine cache", "engine cache folder not writable", "handled" if ok else "silently wrong",
                   detail="fresh engine kept in memory, one warning (cache policy on CPU; TensorRT not installed)")


def tracker_flood_case(n: int = 5000) -> Outcome:
    from ..core.types import Detections
    from ..tracking import Tracker

    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 3800, (n, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(10, 40, (n, 2))], axis=1)
    embeddings = rng.standard_normal((n, 32)).astype(np.float32)
    detections = Detections(boxes, rng.uniform(0.5, 1.0, n), embeddings=embeddings / np.linalg.norm(
        embeddings, axis=1, keepdims=True))
    tracker = Tracker("default")
    tracks = tracker.update(detections, 0)
    ok = tracker.overflow_detections == n - tracker.max_detections and len(tracks) <= tracker.max_detections
    return Outcome("tracker input", f"{n} detections in one frame", "handled" if ok else "silently wrong",
                   detail=f"tracked the {tracker.max_detections} best-scored, overflow_detections = "
                          f"{tracker.overflow_detections}, {len(tracks)} tracks")
