"""Export a torch module to ONNX (dynamo exporter) with its metadata file, and check parity.

:class:`ExportSpec` is what a model area hands over (module, example inputs, I/O names, which
inputs have a dynamic batch and its range, pre-processing facts); :func:`export_onnx` writes
``<name>.onnx`` (checked by ``onnx.checker``, its weights finite, the input size and normalisation
recorded in its ``metadata_props``) and ``<name>.json`` (:class:`ModelMetadata`, with the ONNX sha256). Data-dependent work (thresholds, NMS, top-k) stays out of the graph, in each model's
numpy ``postprocess.py``. :func:`parity` compares PyTorch and a backend on the same inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .metadata import (
    ModelMetadata,
    ModelMismatchError,
    Normalization,
    ShapeProfile,
    TensorSpec,
    metadata_path,
    sha256_file,
)
from .model_check import check_finite_weights, recorded_properties

if TYPE_CHECKING:
    import torch

__all__ = ["MIN_OPSET", "ExportSpec", "export_onnx", "torch_outputs", "ParityReport", "parity"]

log = logging.getLogger(__name__)

MIN_OPSET = 18


@dataclass
class ExportSpec:
    """A model ready for export.

    ``dynamic_batch`` maps an input name to its batch range ``(min, opt, max)``: that input's first
    dimension (and whatever follows it through the graph) becomes dynamic, and the range becomes the
    TensorRT optimisation profile. Inputs not listed keep the example's fixed shape.
    """

    name: str
    module: torch.nn.Module
    example_inputs: tuple[torch.Tensor, ...]
    input_names: Sequence[str]
    output_names: Sequence[str]
    version: str = "1"
    dynamic_batch: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)
    input_size: tuple[int, int] | None = None
    normalization: Normalization | None = None
    skeleton: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.input_names) != len(self.example_inputs):
            raise ValueError(f"{self.name}: {len(self.input_names)} input names for {len(self.example_inputs)} inputs")
        unknown = set(self.dynamic_batch) - set(self.input_names)
        if unknown:
            raise ValueError(f"{self.name}: dynamic_batch names unknown inputs {sorted(unknown)}")
        for name, (lo, opt, hi) in self.dynamic_batch.items():
            if not 1 <= lo <= opt <= hi:
                raise ValueError(f"{self.name}: batch range of {name!r} must satisfy 1 <= min <= opt <= max")

    def profiles(self) -> dict[str, ShapeProfile]:
        """TensorRT optimisation profiles of the dynamic-batch inputs."""
        out = {}
        for name, example in zip(self.input_names, self.example_inputs, strict=True):
            if name in self.dynamic_batch:
                lo, opt, hi = self.dynamic_batch[name]
                rest = tuple(int(d) for d in example.shape[1:])
                out[name] = ShapeProfile((lo, *rest), (opt, *rest), (hi, *rest))
        return out


def torch_outputs(module: torch.nn.Module, inputs: Sequence[torch.Tensor], output_names: Sequence[str]) -> dict[str, np.ndarray]:
    """Run ``module`` in eval mode without gradients; name its tuple/dict outputs like the ONNX graph."""
    import torch

    with torch.inference_mode():
        raw = module.eval()(*inputs)
    if isinstance(raw, Mapping):
        values = list(raw.values())
    elif isinstance(raw, (tuple, list)):
        values = list(raw)
    else:
        values = [raw]
    if len(values) != len(output_names):
        raise ValueError(f"module returned {len(values)} outputs but {len(output_names)} output names were given")
    return {n: v.detach().cpu().numpy() for n, v in zip(output_names, values, strict=True)}


def _tensor_specs(values: Sequence[Any]) -> tuple[TensorSpec, ...]:
    """I/O specs from ONNX ``ValueInfoProto``s: an int per static dim, the symbol per dynamic one."""
    from onnx.helper import tensor_dtype_to_np_dtype

    specs = []
    for value in values:
        tensor_type = value.type.tensor_type
        shape = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in tensor_type.shape.dim)
        specs.append(TensorSpec(value.name, shape, np.dtype(tensor_dtype_to_np_dtype(tensor_type.elem_type)).name))
    return tuple(specs)


def export_onnx(spec: ExportSpec, onnx_path: Path | str, opset: int = MIN_OPSET) -> ModelMetadata:
    """Write ``onnx_path`` with the dynamo exporter, check it, and write its metadata beside it."""
    import onnx
    import torch

    if opset < MIN_OPSET:
        raise ValueError(f"opset must be >= {MIN_OPSET}, got {opset}")
    onnx_path = Path(onnx_path)
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    module = spec.module.eval()
    # Check the output count before exporting so a wrong name list fails fast and clearly.
    torch_outputs(module, spec.example_inputs, spec.output_names)
    dynamic_shapes = tuple(
        {0: torch.export.Dim(f"{name}_batch", min=spec.dynamic_batch[name][0], max=spec.dynamic_batch[name][2])}
        if name in spec.dynamic_batch
        else None
        for name in spec.input_names
    )
    program = torch.onnx.export(
        module,
        tuple(spec.example_inputs),
        dynamo=True,
        opset_version=opset,
        input_names=list(spec.input_names),
        output_names=list(spec.output_names),
        dynamic_shapes=dynamic_shapes if spec.dynamic_batch else None,
        external_data=False,
    )
    if program is None:
        raise RuntimeError(f"{spec.name}: torch.onnx.export returned no program")
    tmp = onnx_path.with_name(f".{onnx_path.name}.tmp")
    program.save(tmp, external_data=False)
    onnx.checker.check_model(str(tmp), full_check=True)
    proto = onnx.load(str(tmp), load_external_data=False)
    metadata = ModelMetadata(
        name=spec.name,
        version=spec.version,
        inputs=_tensor_specs(proto.graph.input),
        outputs=_tensor_specs(proto.graph.output),
        sha256="",
        opset=opset,
        input_size=spec.input_size,
        normalization=spec.normalization,
        skeleton=spec.skeleton,
        profiles=spec.profiles(),
        extra=dict(spec.extra),
        producer=f"torch {torch.__version__}, onnx {onnx.__version__}",
    )
    for key, value in recorded_properties(metadata).items():  # compared with the JSON at load
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(tmp))
    try:
        check_finite_weights(tmp)
    except ModelMismatchError:
        tmp.unlink()
        raise
    tmp.replace(onnx_path)
    metadata = replace(metadata, sha256=sha256_file(onnx_path))
    metadata.save(metadata_path(onnx_path))
    log.info("exported %s -> %s (%s)", spec.name, onnx_path, metadata.sha256[:12])
    return metadata


@dataclass(frozen=True)
class ParityReport:
    """Per-output largest absolute error and the tolerance check ``|a - b| <= atol + rtol |b|``."""

    max_abs: dict[str, float]
    within: dict[str, bool]

    @property
    def ok(self) -> bool:
        return all(self.within.values())

    def __str__(self) -> str:
        return ", ".join(f"{k}: max|Δ|={v:.3g}{'' if self.within[k] else ' FAIL'}" for k, v in self.max_abs.items())


def parity(
    module: torch.nn.Module,
    backend: Any,
    inputs: Sequence[np.ndarray],
    rtol: float = 1e-3,
    atol: float = 1e-4,
) -> ParityReport:
    """Compare ``module`` (PyTorch, the reference) with a loaded backend on the same numpy inputs."""
    import torch

    reference = torch_outputs(module, [torch.from_numpy(np.asarray(x)) for x in inputs], backend.output_names)
    produced = backend.run(dict(zip(backend.input_names, inputs, strict=True)))
    max_abs, within = {}, {}
    for name, ref in reference.items():
        got = produced[name].astype(np.float64)
        if got.shape != ref.shape:
            raise AssertionError(f"output {name!r}: backend shape {got.shape} != torch shape {ref.shape}")
        diff = np.abs(got - ref)
        max_abs[name] = float(diff.max()) if diff.size else 0.0
        within[name] = bool(np.all(diff <= atol + rtol * np.abs(ref)))
    return ParityReport(max_abs, within)
