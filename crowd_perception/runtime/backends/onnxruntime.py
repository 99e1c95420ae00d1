"""ONNX Runtime backend: CPU by default, with CUDA / TensorRT execution providers when asked and present."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..metadata import ModelMetadata
from .base import Backend, BackendUnavailableError

__all__ = ["OrtBackend", "ORT_TYPES"]

log = logging.getLogger(__name__)

# ONNX Runtime type strings -> numpy dtypes for the inputs we accept.
ORT_TYPES: dict[str, np.dtype[Any]] = {
    "tensor(float)": np.dtype(np.float32),
    "tensor(float16)": np.dtype(np.float16),
    "tensor(double)": np.dtype(np.float64),
    "tensor(int64)": np.dtype(np.int64),
    "tensor(int32)": np.dtype(np.int32),
    "tensor(uint8)": np.dtype(np.uint8),
    "tensor(int8)": np.dtype(np.int8),
    "tensor(bool)": np.dtype(np.bool_),
}

_GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


class OrtBackend(Backend):
    """An ``onnxruntime.InferenceSession`` with explicit threading and full graph optimisation.

    ``threads`` bounds the intra-op pool (nodes share the CPU, so it is explicit, default 1);
    spinning is off so idle workers do not burn the cores other nodes need. ``gpu=True`` puts the
    TensorRT / CUDA execution providers first when this onnxruntime build has them.
    """

    def __init__(
        self,
        onnx_path: Path | str,
        threads: int = 1,
        inter_op_threads: int = 1,
        gpu: bool = False,
        metadata: ModelMetadata | None = None,
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - onnxruntime is a hard dependency
            raise BackendUnavailableError(f"onnxruntime is not installed: {exc}") from exc
        if threads < 1 or inter_op_threads < 1:
            raise ValueError(f"thread counts must be >= 1, got {threads}, {inter_op_threads}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = inter_op_threads
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        available = ort.get_available_providers()
        providers = ["CPUExecutionProvider"]
        if gpu:
            gpu_providers = [p for p in _GPU_PROVIDERS if p in available]
            if not gpu_providers:
                raise BackendUnavailableError(
                    f"onnxruntime has no GPU execution provider here (available: {available}); "
                    "install onnxruntime-gpu or use the CPU backend"
                )
            providers = gpu_providers + providers
        self.name = "onnxruntime-gpu" if gpu else "onnxruntime"
        self.metadata = metadata
        try:
            self.session = ort.InferenceSession(str(onnx_path), sess_options=options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/NoSuchFile classes
            raise BackendUnavailableError(f"onnxruntime cannot load {onnx_path}: {exc}") from exc
        self.providers = self.session.get_providers()
        inputs = self.session.get_inputs()
        self.input_names = [i.name for i in inputs]
        self.output_names = [o.name for o in self.session.get_outputs()]
        unsupported = [i.type for i in inputs if i.type not in ORT_TYPES]
        if unsupported:
            raise BackendUnavailableError(f"{onnx_path}: unsupported input types {unsupported}")
        self.input_dtypes = {i.name: ORT_TYPES[i.type] for i in inputs}
        self._check_graph(str(onnx_path), [(i.name, i.shape) for i in inputs], self.output_names,
                          self.session.get_modelmeta().custom_metadata_map)
        log.debug("onnxruntime session for %s on %s, %d thread(s)", onnx_path, self.providers, threads)

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outputs = self.session.run(self.output_names, feeds)
        return dict(zip(self.output_names, outputs, strict=True))
