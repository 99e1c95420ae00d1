"""INT8 Q/DQ quantisation: symmetric int8 weights, Q/DQ nodes, bounded error, metadata updated."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from crowd_perception.runtime.backends import create_backend
from crowd_perception.runtime.metadata import ModelMetadata, metadata_path, sha256_file
from crowd_perception.runtime.quantize import output_error, quantize_int8


def test_int8_model_is_qdq_and_close(tiny_model, tmp_path, rng):
    path, _ = tiny_model
    calib = [{"image": rng.standard_normal((2, 3, 16, 24)).astype(np.float32)} for _ in range(4)]
    meta = quantize_int8(path, tmp_path / "tiny.int8.onnx", calib)
    int8_path = tmp_path / "tiny.int8.onnx"
    assert meta.sha256 == sha256_file(int8_path) and meta.extra["quantization"]["calibration_batches"] == 4
    assert ModelMetadata.load(metadata_path(int8_path)) == meta
    model = onnx.load(str(int8_path))
    ops = {n.op_type for n in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    zero_points = [i for i in model.graph.initializer if i.name.endswith("zero_point")]
    assert zero_points and all(not onnx.numpy_helper.to_array(z).any() for z in zero_points)  # symmetric
    x = rng.standard_normal((3, 3, 16, 24)).astype(np.float32)
    ref = create_backend(path).run({"image": x})
    got = create_backend(int8_path).run({"image": x})  # metadata beside it is verified too
    error = output_error(ref, got)
    assert error["heatmaps"]["mean_rel"] < 0.1 and error["embedding"]["mean_rel"] < 0.1
    assert error["heatmaps"]["max_abs"] > 0  # it really is quantised


def test_no_calibration_data_is_an_error(tiny_model, tmp_path):
    with pytest.raises(ValueError, match="at least one calibration"):
        quantize_int8(tiny_model[0], tmp_path / "q.onnx", [])
