"""Weights files are refused at load, naming file and tensor, when a tensor is NaN/inf or the
embedded config is not JSON."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from crowd_perception.runtime.metadata import ModelMismatchError
from crowd_perception.runtime.weights import load_weights


def _write(path, tensors, config='{"model": {}}'):
    save_file(tensors, str(path), metadata={"config": config})
    return path


def test_finite_weights_load(tmp_path):
    state, config = load_weights(_write(tmp_path / "w.safetensors", {"a": torch.ones(3), "steps": torch.zeros(1, dtype=torch.int64)}))
    assert set(state) == {"a", "steps"} and config == {"model": {}}


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused_naming_file_and_tensor(tmp_path, value):
    bad = torch.ones(4, dtype=torch.float16)
    bad[2] = value
    path = _write(tmp_path / "w.safetensors", {"ok": torch.ones(2), "head.weight": bad})
    with pytest.raises(ModelMismatchError, match=f"{path}: weight tensor 'head.weight'"):
        load_weights(path)


@pytest.mark.parametrize("config", ["{model: detector", "[1, 2]"])
def test_a_config_that_is_not_a_json_object_is_a_named_error(tmp_path, config):
    path = _write(tmp_path / "w.safetensors", {"a": torch.ones(1)}, config)
    with pytest.raises(ModelMismatchError, match=f"{path}: the config in the safetensors metadata is not"):
        load_weights(path)
