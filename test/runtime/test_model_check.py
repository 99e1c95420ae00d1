"""A model is checked against its metadata JSON at load: graph I/O and shapes, the input size and
normalisation recorded in the graph at export, finite weights; malformed metadata is a named error."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from crowd_perception.runtime.backends import create_backend
from crowd_perception.runtime.export import export_onnx
from crowd_perception.runtime.metadata import ModelMetadata, ModelMismatchError, metadata_path, sha256_file
from crowd_perception.runtime.model_check import PROPERTY_PREFIX

from .conftest import tiny_spec


def _edit_metadata(path, edit):
    meta_file = metadata_path(path)
    data = json.loads(meta_file.read_text())
    edit(data)
    meta_file.write_text(json.dumps(data))


def test_export_records_input_size_and_normalisation_in_the_graph(tiny_model):
    path, _ = tiny_model
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(props[f"{PROPERTY_PREFIX}input_size"]) == [16, 24]
    assert json.loads(props[f"{PROPERTY_PREFIX}normalization"])["color"] == "rgb"
    assert create_backend(path).metadata.input_size == (16, 24)  # and the file still loads


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["normalization"].update(color="bgr"), "metadata normalization"),  # a colour-order swap
    (lambda d: d.update(input_size=[32, 24]), "metadata input_size"),
    (lambda d: d["inputs"][0].update(shape=["b", 3, 32, 24]), "input 'image' has shape"),
    (lambda d: d["outputs"].reverse(), "differs from its metadata"),
])
def test_metadata_that_disagrees_with_the_graph_is_refused(tiny_copy, edit, message):
    _edit_metadata(tiny_copy, edit)
    with pytest.raises(ModelMismatchError, match=message):
        create_backend(tiny_copy)


def test_nan_weights_are_refused_at_load_naming_file_and_tensor(tiny_copy):
    model = onnx.load(str(tiny_copy))
    tensor = max(model.graph.initializer, key=lambda t: np.prod(t.dims))
    values = numpy_helper.to_array(tensor).copy()
    values.flat[0] = np.nan
    tensor.CopyFrom(numpy_helper.from_array(values, tensor.name))
    onnx.save(model, str(tiny_copy))
    _edit_metadata(tiny_copy, lambda d: d.update(sha256=sha256_file(tiny_copy)))
    with pytest.raises(ModelMismatchError, match=f"{tiny_copy}: weight tensor '{tensor.name}' \\(1 NaN, 0 inf\\)"):
        create_backend(tiny_copy)


def test_export_refuses_nan_weights(tmp_path):
    spec = tiny_spec()
    with torch.no_grad():
        next(spec.module.parameters()).view(-1)[0] = float("nan")
    with pytest.raises(ModelMismatchError, match="is not finite"):
        export_onnx(spec, tmp_path / "nan.onnx")
    assert not (tmp_path / "nan.onnx").exists()


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(input_size=["320", "576"]), "input_size must be 2 positive integers"),
    (lambda d: d.update(input_size=[320]), "input_size must be 2 positive integers"),
    (lambda d: d["normalization"].update(mean=["a", 0, 0]), "normalization.mean must be numbers"),
    (lambda d: d["inputs"][0].update(shape=[1.5, 3]), "shape must hold positive integers"),
    (lambda d: d["profiles"]["image"].update(max=["8", 3, 16, 24]), "profiles.image.max"),
    (lambda d: d.pop("inputs"), "missing key 'inputs'"),
])
def test_malformed_metadata_is_a_named_error_naming_the_file(tiny_copy, edit, message):
    _edit_metadata(tiny_copy, edit)
    with pytest.raises(ModelMismatchError, match=message) as info:
        ModelMetadata.load(metadata_path(tiny_copy))
    assert str(info.value).startswith(str(metadata_path(tiny_copy)))
