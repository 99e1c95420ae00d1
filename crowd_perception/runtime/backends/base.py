"""The one interface every inference backend implements, and the errors that drive fallback."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

import numpy as np

from ...core.errors import CrowdPerceptionError, NonFiniteOutputError
from ..metadata import ModelMetadata
from ..model_check import check_graph, non_finite_tensor

__all__ = ["Backend", "BackendUnavailableError", "NonFiniteOutputError"]


class BackendUnavailableError(CrowdPerceptionError, RuntimeError):
    """This backend cannot run here (library or device missing, engine unusable); try the next one."""


class Backend(ABC):
    """A loaded model: ``run(feeds)`` maps input names to arrays and returns output name -> array.

    Subclasses set ``name``, ``input_names``, ``output_names`` and ``input_dtypes`` and implement
    :meth:`_run`; :meth:`run` checks the feeds first so that every backend rejects bad input the same way.
    """

    name: str
    input_names: list[str]
    output_names: list[str]
    input_dtypes: dict[str, np.dtype]
    metadata: ModelMetadata | None = None

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the model on ``feeds`` (exactly the model's inputs, in the model's dtypes)."""
        missing = [n for n in self.input_names if n not in feeds]
        unknown = [n for n in feeds if n not in self.input_names]
        if missing or unknown:
            raise KeyError(f"{self.name}: missing inputs {missing}, unknown inputs {unknown}; expected {self.input_names}")
        checked = {}
        for n in self.input_names:
            array = np.asarray(feeds[n])
            if array.dtype != self.input_dtypes[n]:
                raise TypeError(f"{self.name}: input {n!r} must be {self.input_dtypes[n]}, got {array.dtype}")
            checked[n] = np.ascontiguousarray(array)
        outputs = self._run(checked)
        _check_finite(self.name, outputs)
        return outputs

    @abstractmethod
    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Backend-specific inference on validated, contiguous feeds."""

    def _check_graph(self, source: str, inputs: Sequence[tuple[str, Sequence | None]], outputs: list[str],
                     properties: Mapping[str, str] | None = None) -> None:
        """Refuse a model (``source``: its file) whose graph disagrees with its metadata (a swapped file or
        an edited JSON); see :func:`~crowd_perception.runtime.model_check.check_graph`."""
        check_graph(f"{source} ({self.name})", self.metadata, inputs, outputs, properties)

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing to release
        """Release native resources (device memory, sessions)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, inputs={self.input_names}, outputs={self.output_names})"


def _check_finite(backend: str, outputs: Mapping[str, np.ndarray]) -> None:
    """Raise :class:`NonFiniteOutputError` naming a floating output that holds NaN or inf."""
    fault = non_finite_tensor(outputs)
    if fault is not None:
        raise NonFiniteOutputError(f"{backend}: non-finite network output {fault}")
