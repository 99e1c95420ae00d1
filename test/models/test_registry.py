"""The model registry: names, paths, and the exporter and runner each name leads to."""

from __future__ import annotations

import pytest

from crowd_perception.models.registry import MODELS, exporter, get_model, runner_class


def test_registry_names_and_paths(tmp_path):
    assert set(MODELS) == {"detector", "pose2d", "pose3d"}
    entry = get_model("pose2d")
    assert entry.onnx(tmp_path) == tmp_path / "pose2d.onnx"
    assert entry.onnx(tmp_path, "int8") == tmp_path / "pose2d.int8.onnx"
    assert entry.weights(tmp_path) == tmp_path / "pose2d.safetensors"
    with pytest.raises(KeyError, match="unknown model"):
        get_model("segmenter")


@pytest.mark.parametrize(
    ("name", "export", "runner"),
    [
        ("detector", "detector.export.export_detector", "detector.runner.PedestrianDetector"),
        ("pose2d", "pose2d.export.export_pose", "pose2d.runner.OccludedPoseEstimator"),
        ("pose3d", "pose3d.export.export_pose3d", "pose3d.runner.Pose3DEstimator"),
    ],
)
def test_each_model_leads_to_its_own_exporter_and_runner(name, export, runner):
    pytest.importorskip("torch")
    for found, dotted in ((exporter(name), export), (runner_class(name), runner)):
        assert f"{found.__module__}.{found.__qualname__}" == f"crowd_perception.models.{dotted}"
    with pytest.raises(KeyError, match="unknown model"):
        runner_class("segmenter")
