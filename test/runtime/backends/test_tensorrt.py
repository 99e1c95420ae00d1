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


# -- the whole backend on a CPU stand-in for TensorRT + cuda-python ---------------------------------

from .fake_tensorrt import FakeCudart, FakeTensorRT  # noqa: E402


def install_fake_gpu(monkeypatch) -> FakeCudart:
    """Install the fake ``tensorrt`` and ``cuda.cudart``; returns the cudart fake (swap it to change GPU)."""
    cudart = FakeCudart()
    monkeypatch.setitem(sys.modules, "tensorrt", FakeTensorRT())
    monkeypatch.setitem(sys.modules, "cuda", types.SimpleNamespace(cudart=cudart))
    monkeypatch.setitem(sys.modules, "cuda.bindings", None)
    return cudart


@pytest.fixture
def fake_gpu(monkeypatch):
    return install_fake_gpu(monkeypatch)


def test_fake_gpu_build_cache_run_and_rebuild(tiny_model, tmp_path, fake_gpu, monkeypatch, caplog, rng):
    import numpy as np

    from crowd_perception.runtime.backends.onnxruntime import OrtBackend

    from .fake_tensorrt import _Builder

    path, _ = tiny_model
    meta = ModelMetadata.load(metadata_path(path))
    progress = []
    backend = TensorRTBackend(path, metadata=meta, cache_dir=tmp_path, precision="fp32", progress=lambda *a: progress.append(a))
    assert backend.built and backend.engine_path == tmp_path / "tiny.fp32.engine" and backend.engine_path.is_file()
    assert backend.key.gpu_name == "Fake GPU" and backend.key.compute_capability == "9.0"
    assert progress[0] == ("Building engine", 0, 2) and progress[-1] == ("Building engine", 2, 2)
    assert list(tmp_path.glob("timing-*.cache"))
    assert backend.input_names == ["image"] and backend.output_names == ["heatmaps", "embedding"]  # ONNX order
    reference = OrtBackend(path)
    for batch in (1, 5, 8):
        x = rng.standard_normal((batch, 3, 16, 24)).astype(np.float32)
        got, want = backend.run({"image": x}), reference.run({"image": x})
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="outside the engine profile"):
        backend.run({"image": np.zeros((9, 3, 16, 24), np.float32)})
    with pytest.raises(ValueError, match="outside the engine profile"):
        backend.run({"image": np.zeros((1, 3, 16, 25), np.float32)})
    device_buffers = len(fake_gpu.buffers)
    backend.run({"image": np.zeros((2, 3, 16, 24), np.float32)})
    assert len(fake_gpu.buffers) == device_buffers  # nothing allocated per call
    backend.close()
    assert len(fake_gpu.freed) == device_buffers

    builds = _Builder.builds
    again = TensorRTBackend(path, metadata=meta, cache_dir=tmp_path, precision="fp32")
    assert not again.built and _Builder.builds == builds  # cache hit

    other_gpu = FakeCudart(gpu_name="Orin", capability=(8, 7))
    monkeypatch.setitem(sys.modules, "cuda", types.SimpleNamespace(cudart=other_gpu))
    with caplog.at_level("WARNING"):
        moved = TensorRTBackend(path, metadata=meta, cache_dir=tmp_path, precision="fp32")
    assert moved.built and "gpu_name: 'Fake GPU' != 'Orin'" in caplog.text


def test_fake_gpu_fp16_build_from_converted_onnx(tiny_model, tmp_path, fake_gpu, rng):
    import numpy as np

    from crowd_perception.runtime.backends.onnxruntime import OrtBackend

    path, _ = tiny_model
    backend = create_backend(path, "tensorrt", cache_dir=tmp_path)  # metadata found beside the model
    assert backend.name == "tensorrt" and backend.engine_path.name == "tiny.fp16.engine"  # named after the file
    x = rng.standard_normal((3, 3, 16, 24)).astype(np.float32)
    got, want = backend.run({"image": x}), OrtBackend(path).run({"image": x})
    for name in want:
        assert got[name].dtype == np.float32
        np.testing.assert_allclose(got[name], want[name], atol=2e-2)
        assert not np.array_equal(got[name], want[name])  # really the half-precision graph


def test_fake_gpu_corrupt_engine_is_rebuilt(tiny_model, tmp_path, fake_gpu):
    path, _ = tiny_model
    first = TensorRTBackend(path, metadata=ModelMetadata.load(metadata_path(path)), cache_dir=tmp_path, precision="fp32")
    data = bytearray(first.engine_path.read_bytes())
    data[-10] ^= 0xFF
    first.engine_path.write_bytes(bytes(data))
    second = TensorRTBackend(path, metadata=ModelMetadata.load(metadata_path(path)), cache_dir=tmp_path, precision="fp32")
    assert second.built


def test_fake_gpu_qdq_model_is_not_fp16_converted(tiny_model, tmp_path, fake_gpu, rng):
    import numpy as np

    from crowd_perception.runtime.quantize import quantize_int8

    calib = [{"image": rng.standard_normal((2, 3, 16, 24)).astype(np.float32)}]
    int8 = tmp_path / "tiny.int8.onnx"
    quantize_int8(tiny_model[0], int8, calib)
    backend = create_backend(int8, "tensorrt", cache_dir=tmp_path)
    assert backend.build_config.precision == "fp32" and backend.engine_path.name == "tiny.int8.fp32.engine"
    assert backend.run({"image": calib[0]["image"]})["heatmaps"].shape == (2, 2, 32, 48)


def test_fake_gpu_runs_the_two_input_frame_mode_pose_model(tmp_path, monkeypatch):
    """The frame-mode pose export (fixed ``images``, dynamic ``rois``) builds one profile per input and
    gives the poses ONNX Runtime gives, through the node-facing runner."""
    import numpy as np
    import torch

    from crowd_perception.models.pose2d.config import PRESETS
    from crowd_perception.models.pose2d.export import export_pose
    from crowd_perception.models.pose2d.model import OccludedPoseNet
    from crowd_perception.models.pose2d.runner import OccludedPoseEstimator
    from crowd_perception.training import save_weights

    torch.manual_seed(0)
    config = PRESETS["smoke"]()
    weights = save_weights(tmp_path / "model.safetensors", OccludedPoseNet(config.model).eval(), config)
    onnx_path = tmp_path / "pose2d.onnx"
    export_pose(weights, onnx_path, max_batch=16)
    profiles = static_profiles(onnx_path, ModelMetadata.load(metadata_path(onnx_path)))
    assert profiles["images"].min == profiles["images"].max == (1, 3, 96, 160)
    assert profiles["rois"].min == (1, 2, 3) and profiles["rois"].max == (16, 2, 3)
    install_fake_gpu(monkeypatch)  # after the export: torch.export inspects the modules it finds
    monkeypatch.setenv("CROWD_PERCEPTION_ENGINE_CACHE", str(tmp_path / "engines"))
    image = np.random.default_rng(0).integers(0, 255, (120, 200, 3), dtype=np.uint8)
    boxes = np.array([[10, 10, 60, 110], [80, 5, 120, 100], [130, 20, 190, 118]], np.float32)
    trt = OccludedPoseEstimator(onnx_path, backend="tensorrt")
    assert trt.name == "tensorrt" and trt.backend.input_names == ["images", "rois"]
    on_trt = trt.infer(image, boxes)
    on_ort = OccludedPoseEstimator(onnx_path, backend="onnxruntime").infer(image, boxes)
    assert trt.backend.engine_path.name == "pose2d.fp16.engine"  # the vehicle default: FP16 engine from the converted ONNX
    for got, want in zip(on_trt, on_ort, strict=True):  # heatmaps, occlusion logits, transforms
        np.testing.assert_allclose(got, want, rtol=1e-2, atol=1e-3)


def test_bindings_wheel_alone_is_used_under_its_own_name(monkeypatch):
    from crowd_perception.runtime.backends.tensorrt import import_tensorrt

    monkeypatch.setitem(sys.modules, "tensorrt", None)  # no metapackage
    bindings = types.SimpleNamespace(__version__="11.4.0.106")
    monkeypatch.setitem(sys.modules, "tensorrt_bindings", bindings)
    assert import_tensorrt() is bindings
    monkeypatch.setitem(sys.modules, "tensorrt_bindings", None)
    with pytest.raises(BackendUnavailableError, match=r"TensorRT is not installed.*'tensorrt' extra"):
        import_tensorrt()


def test_unwritable_engine_cache_keeps_the_built_engine_under_auto(tiny_model, tmp_path, fake_gpu):
    """The engine just built runs although the cache cannot hold it; no OSError escapes `auto`."""
    blocker = tmp_path / "read_only_cache"
    blocker.write_text("a file where the cache folder should be")
    backend = create_backend(tiny_model[0], "auto", cache_dir=blocker / "engines", precision="fp32")
    assert backend.name == "tensorrt" and backend.built and not backend.engine_path.exists()
    backend.close()
