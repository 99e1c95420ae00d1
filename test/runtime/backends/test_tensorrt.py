"""TensorRT backend paths that run without TensorRT or a GPU: import guards, profiles, fallback."""

from __future__ import annotations

import sys
import types

import pytest

from crowd_perception.runtime.backends import create_backend
from crowd_perception.runtime.backends.base import BackendUnavailableError
from crowd_perception.runtime.backends.tensorrt import TensorRTBackend, default_cache_dir, static_profiles
from crowd_perception.runtime.metadata import ModelMetadata, metadata_path

try:
    import tensorrt  # noqa: F401

    HAVE_TRT = True
except ImportError:
    HAVE_TRT = False

needs_no_trt = pytest.mark.skipif(HAVE_TRT, reason="TensorRT is installed; these tests cover its absence")


@needs_no_trt
def test_missing_tensorrt_is_unavailable_with_instructions(tiny_model):
    with pytest.raises(BackendUnavailableError, match=r"TensorRT is not installed.*'tensorrt' extra"):
        TensorRTBackend(tiny_model[0])


def _fake_tensorrt(monkeypatch: pytest.MonkeyPatch, version: str) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", types.SimpleNamespace(__version__=version))


def test_old_tensorrt_is_refused(tiny_model, monkeypatch):
    _fake_tensorrt(monkeypatch, "8.6.1")
    with pytest.raises(BackendUnavailableError, match="too old"):
        TensorRTBackend(tiny_model[0])


def test_missing_cuda_python_is_unavailable(tiny_model, monkeypatch):
    _fake_tensorrt(monkeypatch, "10.7.0")
    monkeypatch.setitem(sys.modules, "cuda", None)  # makes `import cuda...` fail like a missing package
    monkeypatch.setitem(sys.modules, "cuda.bindings", None)
    with pytest.raises(BackendUnavailableError, match="cuda-python is not installed"):
        TensorRTBackend(tiny_model[0])


def test_no_cuda_device_is_unavailable_and_falls_back(tiny_model, monkeypatch, caplog):
    """A machine with TensorRT and cuda-python but no GPU: cudaSetDevice fails -> clear fallback."""
    _fake_tensorrt(monkeypatch, "10.7.0")
    no_device = types.SimpleNamespace(
        cudaSetDevice=lambda device: (100,),  # cudaErrorNoDevice
        cudaGetErrorString=lambda err: (0, b"no CUDA-capable device is detected"),
    )
    monkeypatch.setitem(sys.modules, "cuda", types.SimpleNamespace(cudart=no_device))
    monkeypatch.setitem(sys.modules, "cuda.bindings", None)
    with pytest.raises(BackendUnavailableError, match=r"no usable CUDA device 0.*no CUDA-capable device"):
        TensorRTBackend(tiny_model[0])
    backend = create_backend(tiny_model[0], "tensorrt", fallback=["onnxruntime"])
    assert backend.name == "onnxruntime"
    assert "no CUDA-capable device" in caplog.text and "falling back to onnxruntime" in caplog.text


def test_profiles_from_metadata_or_static_onnx(tiny_model, tiny_copy):
    meta = ModelMetadata.load(metadata_path(tiny_model[0]))
    assert static_profiles(tiny_model[0], meta)["image"].max == (8, 3, 16, 24)
    with pytest.raises(BackendUnavailableError, match="dynamic dimensions"):
        static_profiles(tiny_copy, None)


def test_default_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("CROWD_PERCEPTION_ENGINE_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path
