"""``create_backend``: metadata verification, fallback chain and its messages."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from crowd_perception.runtime.backends import create_backend
from crowd_perception.runtime.backends.base import BackendUnavailableError
from crowd_perception.runtime.metadata import ModelMetadata, ModelMismatchError, metadata_path


def test_default_is_onnxruntime_with_metadata(tiny_model):
    backend = create_backend(tiny_model[0])
    assert backend.name == "onnxruntime"
    assert backend.metadata is not None and backend.metadata.name == "tiny"


def test_model_without_metadata_loads_unchecked(tiny_copy):
    metadata_path(tiny_copy).unlink()
    assert create_backend(tiny_copy).metadata is None


def test_model_not_matching_metadata_is_refused_on_every_backend(tiny_copy):
    """A changed model file must not silently run, and falling back would run the same file."""
    tiny_copy.write_bytes(tiny_copy.read_bytes() + b"\0")
    with pytest.raises(ModelMismatchError, match="sha256"):
        create_backend(tiny_copy, "tensorrt", fallback=["onnxruntime"])


def test_metadata_with_other_io_names_is_refused(tiny_copy):
    path = metadata_path(tiny_copy)
    data = json.loads(path.read_text())
    data["outputs"][0]["name"] = "boxes"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelMismatchError, match="differs from its metadata"):
        create_backend(tiny_copy)


def test_explicit_metadata_object_or_path(tiny_copy, tmp_path):
    meta = ModelMetadata.load(metadata_path(tiny_copy))
    moved = tmp_path / "elsewhere.json"
    metadata_path(tiny_copy).rename(moved)
    assert create_backend(tiny_copy, metadata=moved).metadata == meta
    assert create_backend(tiny_copy, metadata=meta).metadata == meta


def test_tensorrt_missing_falls_back_with_a_warning(tiny_model, caplog):
    pytest.importorskip("onnxruntime")
    try:
        import tensorrt  # noqa: F401

        pytest.skip("TensorRT is installed here; the missing-TensorRT path cannot be exercised")
    except ImportError:
        pass
    with caplog.at_level(logging.WARNING):
        backend = create_backend(tiny_model[0], "tensorrt", fallback=["onnxruntime"])
    assert backend.name == "onnxruntime"
    assert "tensorrt unavailable" in caplog.text.replace("backend ", "") and "falling back to onnxruntime" in caplog.text
    out = backend.run({"image": np.zeros((1, 3, 16, 24), np.float32)})
    assert set(out) == {"heatmaps", "embedding"}


def test_auto_ends_on_cpu_and_no_fallback_raises(tiny_model):
    try:
        import tensorrt  # noqa: F401

        pytest.skip("TensorRT is installed here")
    except ImportError:
        pass
    assert create_backend(tiny_model[0], "auto").name in ("onnxruntime", "onnxruntime-gpu")
    with pytest.raises(BackendUnavailableError, match="no backend can run") as info:
        create_backend(tiny_model[0], "tensorrt")
    assert "TensorRT" in str(info.value)


def test_bad_arguments(tiny_model, tmp_path):
    with pytest.raises(ValueError, match="unknown backend"):
        create_backend(tiny_model[0], "openvino")
    with pytest.raises(FileNotFoundError):
        create_backend(tmp_path / "absent.onnx")
