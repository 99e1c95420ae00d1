"""FP16 conversion keeps float32 I/O and stays close to the float32 model (checked on ORT CPU)."""

from __future__ import annotations

import numpy as np
import onnx

from crowd_perception.runtime.backends.onnxruntime import OrtBackend
from crowd_perception.runtime.fp16 import convert_to_fp16


def test_fp16_model_is_half_inside_and_close(tiny_model, tmp_path, rng):
    path, _ = tiny_model
    half = convert_to_fp16(path, tmp_path / "tiny.fp16.onnx")
    model = onnx.load(str(half))
    assert {i.type.tensor_type.elem_type for i in model.graph.input} == {onnx.TensorProto.FLOAT}
    weights = {init.name: init.data_type for init in model.graph.initializer if init.name.endswith(".weight")}
    assert weights and set(weights.values()) == {onnx.TensorProto.FLOAT16}
    x = rng.standard_normal((2, 3, 16, 24)).astype(np.float32)
    ref = OrtBackend(path).run({"image": x})
    got = OrtBackend(half).run({"image": x})
    for name in ref:
        assert got[name].dtype == np.float32
        np.testing.assert_allclose(got[name], ref[name], atol=2e-2)
