"""ONNX Runtime backend: session options, I/O checks and refusal of bad feeds."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from crowd_perception.runtime.backends.base import BackendUnavailableError
from crowd_perception.runtime.backends.onnxruntime import OrtBackend


def test_session_is_configured_and_runs(tiny_model, rng):
    path, _ = tiny_model
    backend = OrtBackend(path, threads=2)
    options = backend.session.get_session_options()
    assert options.intra_op_num_threads == 2
    assert options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert backend.providers == ["CPUExecutionProvider"]
    assert backend.input_names == ["image"] and backend.output_names == ["heatmaps", "embedding"]
    out = backend.run({"image": rng.standard_normal((3, 3, 16, 24)).astype(np.float32)})
    assert out["heatmaps"].shape == (3, 2, 32, 48) and out["embedding"].shape == (3, 4)


def test_bad_feeds_are_refused(tiny_model):
    backend = OrtBackend(tiny_model[0])
    x = np.zeros((1, 3, 16, 24), np.float32)
    with pytest.raises(KeyError, match="missing inputs"):
        backend.run({})
    with pytest.raises(KeyError, match="unknown inputs"):
        backend.run({"image": x, "extra": x})
    with pytest.raises(TypeError, match="float32"):
        backend.run({"image": x.astype(np.float64)})


def test_non_contiguous_feed_is_accepted(tiny_model):
    backend = OrtBackend(tiny_model[0])
    x = np.zeros((1, 3, 24, 16), np.float32).transpose(0, 1, 3, 2)
    assert backend.run({"image": x})["embedding"].shape == (1, 4)


def test_gpu_providers_missing_is_a_clear_unavailable(tiny_model):
    if any(p in ort.get_available_providers() for p in ("CUDAExecutionProvider", "TensorrtExecutionProvider")):
        pytest.skip("this onnxruntime build has GPU providers")
    with pytest.raises(BackendUnavailableError, match="no GPU execution provider"):
        OrtBackend(tiny_model[0], gpu=True)


def test_unloadable_file_is_unavailable(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(BackendUnavailableError, match="cannot load"):
        OrtBackend(bad)
    with pytest.raises(ValueError, match="thread"):
        OrtBackend(bad, threads=0)
