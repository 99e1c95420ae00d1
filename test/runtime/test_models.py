"""The model registry: names, paths, lazy resolution with clear errors."""

from __future__ import annotations

import pytest

from crowd_perception.runtime.models import MODELS, get_model, resolve


def test_registry_names_and_paths(tmp_path):
    assert set(MODELS) == {"detector", "pose2d", "pose3d"}
    entry = get_model("pose2d")
    assert entry.onnx(tmp_path) == tmp_path / "pose2d.onnx"
    assert entry.weights(tmp_path) == tmp_path / "pose2d.safetensors"
    with pytest.raises(KeyError, match="unknown model"):
        get_model("segmenter")


def test_resolve_errors():
    assert resolve("crowd_perception.runtime.models:get_model") is get_model
    with pytest.raises(ImportError, match="cannot import"):
        resolve("crowd_perception.nope:x")
    with pytest.raises(ImportError, match="has no 'x'"):
        resolve("crowd_perception.runtime.models:x")
