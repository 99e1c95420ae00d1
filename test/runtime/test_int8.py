"""INT8 export of a registered model: calibrated on the feeds its runner really produces."""

from __future__ import annotations

import shutil

from crowd_perception.models import registry
from crowd_perception.models.int8 import export_int8
from crowd_perception.runtime.metadata import ModelMetadata

from .test_benchmark import TinyPoseRunner


def test_export_int8_records_feeds_quantizes_and_reports(tiny_model, tmp_path, monkeypatch):
    shutil.copy(tiny_model[0], tmp_path / "pose2d.onnx")
    shutil.copy(tiny_model[0].with_suffix(".json"), tmp_path / "pose2d.json")
    monkeypatch.setattr(registry, "runner_class", lambda name: lambda path, backend, threads: TinyPoseRunner(path))
    report = export_int8("pose2d", tmp_path, frames=2)
    assert report["int8_model"] == str(tmp_path / "pose2d.int8.onnx")
    assert report["calibration_batches"] >= 2 and report["evaluation_batches"] >= 1  # crops batched by 8
    assert set(report["outputs"]) == {"heatmaps", "embedding"}
    assert all(0 < e["mean_abs"] <= e["max_abs"] for e in report["outputs"].values())
    meta = ModelMetadata.load(tmp_path / "pose2d.int8.json")
    assert meta.extra["quantization"]["calibration_batches"] == report["calibration_batches"]
