"""ONNX export: checked graph, dynamic batch, metadata beside the model, PyTorch/ORT parity."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from crowd_perception.runtime.backends import create_backend
from crowd_perception.runtime.export import MIN_OPSET, ExportSpec, export_onnx, parity
from crowd_perception.runtime.metadata import ModelMetadata, metadata_path, sha256_file

from .conftest import TinyNet, tiny_spec


def test_export_writes_checked_onnx_and_metadata(tiny_model):
    path, _ = tiny_model
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= MIN_OPSET
    meta = ModelMetadata.load(metadata_path(path))
    assert meta.sha256 == sha256_file(path)
    assert meta.input_names == ["image"] and meta.output_names == ["heatmaps", "embedding"]
    assert isinstance(meta.inputs[0].shape[0], str)  # dynamic batch
    assert meta.inputs[0].shape[1:] == (3, 16, 24)
    assert meta.profiles["image"].max == (8, 3, 16, 24)
    assert meta.skeleton == "body22" and meta.input_size == (16, 24) and meta.extra == {"stride": 1}


@pytest.mark.parametrize("batch", [1, 3, 8])
def test_parity_torch_vs_onnxruntime_over_dynamic_batch(tiny_model, batch, rng):
    path, spec = tiny_model
    backend = create_backend(path, "onnxruntime")
    x = rng.standard_normal((batch, 3, 16, 24)).astype(np.float32)
    report = parity(spec.module, backend, [x], rtol=1e-4, atol=1e-5)
    assert report.ok, str(report)


def test_parity_detects_a_different_model(tiny_model, rng):
    path, _ = tiny_model
    other = TinyNet().eval()  # other random weights
    report = parity(other, create_backend(path), [rng.standard_normal((1, 3, 16, 24)).astype(np.float32)])
    assert not report.ok and "FAIL" in str(report)


def test_export_rejects_old_opset_and_bad_spec(tmp_path):
    spec = tiny_spec()
    with pytest.raises(ValueError, match="opset"):
        export_onnx(spec, tmp_path / "m.onnx", opset=13)
    with pytest.raises(ValueError, match="input names"):
        ExportSpec("m", spec.module, spec.example_inputs, ["a", "b"], ["o"])
    with pytest.raises(ValueError, match="unknown inputs"):
        ExportSpec("m", spec.module, spec.example_inputs, ["image"], ["o"], dynamic_batch={"crops": (1, 1, 2)})
    bad_outputs = ExportSpec("m", spec.module, spec.example_inputs, ["image"], ["only_one"])
    with pytest.raises(ValueError, match="2 outputs"):
        export_onnx(bad_outputs, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
