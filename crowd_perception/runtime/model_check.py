"""A loaded model checked against its metadata JSON: graph I/O, what the export recorded in the graph,
and finite weights.

The sha256 in the metadata ties the JSON to one ONNX file, but not the JSON's own fields: an edited
``normalization.color`` (a colour-order swap) or ``input_size`` would silently change every result.
So the export also records those fields in the ONNX graph's ``metadata_props``
(:func:`recorded_properties`), and loading compares them (:func:`check_graph`), together with the
input names and static shapes and the output names the graph really has. Files exported before
this carry no such properties; for them only the I/O is compared. Weights holding NaN or inf are
refused at load (:func:`check_finite_weights`), naming the tensor.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .metadata import ModelMetadata, ModelMismatchError

__all__ = ["PROPERTY_PREFIX", "recorded_properties", "check_graph", "check_finite_weights", "non_finite_tensor"]

log = logging.getLogger(__name__)

PROPERTY_PREFIX = "crowd_perception."  # metadata_props keys written by the export


def recorded_properties(metadata: ModelMetadata) -> dict[str, str]:
    """The metadata fields that decide how images are fed, as ONNX ``metadata_props`` (JSON values)."""
    return {
        f"{PROPERTY_PREFIX}input_size": json.dumps(list(metadata.input_size) if metadata.input_size else None),
        f"{PROPERTY_PREFIX}normalization": json.dumps(asdict(metadata.normalization) if metadata.normalization else None),
    }


def check_graph(source: str, metadata: ModelMetadata | None, inputs: Sequence[tuple[str, Sequence | None]],
                outputs: Sequence[str], properties: Mapping[str, str] | None = None) -> None:
    """Raise :class:`ModelMismatchError` where the graph (``inputs``: name and shape, None when the
    backend does not tell it; ``outputs``: names; ``properties``: its metadata_props) disagrees with
    ``metadata``. A dimension that is symbolic (a string or None) on either side matches anything.
    """
    if metadata is None:
        return
    names = [name for name, _ in inputs]
    if names != metadata.input_names or list(outputs) != metadata.output_names:
        raise ModelMismatchError(
            f"{source}: model I/O {names} -> {list(outputs)} differs from its metadata "
            f"{metadata.input_names} -> {metadata.output_names} ({metadata.name!r})"
        )
    for (name, shape), spec in zip(inputs, metadata.inputs, strict=True):
        if shape is not None and not _shapes_agree(shape, spec.shape):
            raise ModelMismatchError(f"{source}: input {name!r} has shape {list(shape)} in the graph but "
                                     f"{list(spec.shape)} in its metadata ({metadata.name!r})")
    recorded = {k: v for k, v in (properties or {}).items() if k.startswith(PROPERTY_PREFIX)}
    for key, expected in recorded_properties(metadata).items():
        if key in recorded and json.loads(recorded[key]) != json.loads(expected):
            field = key[len(PROPERTY_PREFIX):]
            raise ModelMismatchError(f"{source}: metadata {field} {expected} differs from the {recorded[key]} "
                                     f"recorded in the model at export ({metadata.name!r}); fix the metadata file")


def _shapes_agree(graph: Sequence, spec: Sequence) -> bool:
    if len(graph) != len(spec):
        return False
    return all(not isinstance(a, int) or not isinstance(b, int) or a == b for a, b in zip(graph, spec, strict=True))


def non_finite_tensor(tensors: Mapping[str, np.ndarray]) -> str | None:
    """``"name (n NaN, m inf)"`` of the first floating tensor holding NaN or inf, else None."""
    for name, array in tensors.items():
        array = np.asarray(array)
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            return f"{name!r} ({int(np.isnan(array).sum())} NaN, {int(np.isinf(array).sum())} inf)"
    return None


def check_finite_weights(onnx_path: Path) -> None:
    """Refuse an ONNX file whose weights (initializers) hold NaN or inf, naming the tensor.

    Needs the ``onnx`` package (the ``train`` extra); without it the check is skipped (logged).
    """
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        log.debug("onnx is not installed: the weights of %s are not checked for NaN/inf", onnx_path)
        return
    graph = onnx.load(str(onnx_path)).graph
    fault = non_finite_tensor({t.name: numpy_helper.to_array(t) for t in graph.initializer})
    if fault is not None:
        raise ModelMismatchError(f"{onnx_path}: weight tensor {fault} is not finite; the model cannot be used")
