"""Every backend checks its network output: NaN or inf is an error, never a result."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.core.errors import CrowdPerceptionError, NonFiniteOutputError
from crowd_perception.runtime.backends.base import Backend


class _Fixed(Backend):
    name = "fixed"

    def __init__(self, outputs):
        self.input_names = ["x"]
        self.input_dtypes = {"x": np.dtype(np.float32)}
        self.outputs = outputs
        self.output_names = list(outputs)

    def _run(self, feeds):
        return self.outputs


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_output_raises_a_named_error(value):
    scores = np.ones((1, 10), np.float16)
    scores[0, 3] = value  # FP16 overflow looks like this
    backend = _Fixed({"boxes": np.zeros((1, 10, 4), np.float32), "scores": scores})
    with pytest.raises(NonFiniteOutputError, match="fixed: non-finite network output 'scores' \\(") as info:
        backend.run({"x": np.zeros(1, np.float32)})
    assert isinstance(info.value, CrowdPerceptionError)


def test_finite_and_integer_outputs_pass():
    outputs = {"boxes": np.zeros((1, 4), np.float32), "count": np.array([3], np.int64)}
    assert _Fixed(outputs).run({"x": np.zeros(1, np.float32)}) is outputs
