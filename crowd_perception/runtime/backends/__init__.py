"""``create_backend``: load one model on the first backend that works here, with explicit fallback.

Backends: ``"onnxruntime"`` (CPU), ``"onnxruntime-gpu"`` (ORT with TensorRT/CUDA execution
providers), ``"tensorrt"`` (native TensorRT engine, cached), and ``"auto"`` = tensorrt, then
onnxruntime-gpu, then onnxruntime. A backend that cannot run here raises
:class:`BackendUnavailableError`; the next backend in the chain is tried and the reason is logged as
a warning. A model that does not match its metadata raises :class:`ModelMismatchError` and is never
retried on another backend: every backend would run the same wrong file.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..metadata import ModelMetadata, metadata_path, verify_model_file
from ..model_check import check_finite_weights
from .base import Backend, BackendUnavailableError

__all__ = ["Backend", "BackendUnavailableError", "BACKENDS", "create_backend", "resolve_metadata"]

log = logging.getLogger(__name__)

BACKENDS = ("onnxruntime", "onnxruntime-gpu", "tensorrt")
_AUTO = ("tensorrt", "onnxruntime-gpu", "onnxruntime")


def resolve_metadata(onnx_path: Path, metadata: ModelMetadata | Path | str | None) -> ModelMetadata | None:
    """The model's metadata (given, from a path, or ``model.json`` beside it), verified against the file.

    Returns ``None`` only when no metadata was given and none lies beside the model.
    """
    if metadata is None:
        sibling = metadata_path(onnx_path)
        if not sibling.is_file():
            log.debug("%s has no metadata file; I/O names and sha256 are not checked", onnx_path)
            return None
        metadata = sibling
    if not isinstance(metadata, ModelMetadata):
        metadata = ModelMetadata.load(metadata)
    verify_model_file(onnx_path, metadata)
    return metadata


def _expand(backend: str, fallback: Sequence[str]) -> list[str]:
    chain: list[str] = []
    for name in (backend, *fallback):
        for item in _AUTO if name == "auto" else (name,):
            if item not in BACKENDS:
                raise ValueError(f"unknown backend {item!r}; choose from {(*BACKENDS, 'auto')}")
            if item not in chain:
                chain.append(item)
    return chain


def _create_one(name: str, onnx_path: Path, threads: int, metadata: ModelMetadata | None, options: dict) -> Backend:
    if name == "tensorrt":
        from .tensorrt import TensorRTBackend

        return TensorRTBackend(onnx_path, metadata=metadata, **options)
    from .onnxruntime import OrtBackend

    return OrtBackend(onnx_path, threads=threads, gpu=name == "onnxruntime-gpu", metadata=metadata)


def create_backend(
    onnx_path: Path | str,
    backend: str = "onnxruntime",
    threads: int = 1,
    fallback: Sequence[str] = (),
    metadata: ModelMetadata | Path | str | None = None,
    **tensorrt_options: Any,
) -> Backend:
    """Load ``onnx_path`` on ``backend``, else on each of ``fallback`` in turn.

    ``threads`` is the CPU intra-op thread count for onnxruntime; ``tensorrt_options`` go to
    :class:`~crowd_perception.runtime.backends.tensorrt.TensorRTBackend` (``cache_dir``,
    ``precision``, ...). Raises :class:`BackendUnavailableError` listing every backend's reason
    when none can run, and :class:`ModelMismatchError` when the file does not match its metadata or
    its weights hold NaN/inf.
    """
    onnx_path = Path(onnx_path)
    if not onnx_path.is_file():
        raise FileNotFoundError(f"model file not found: {onnx_path}")
    chain = _expand(backend, fallback)
    meta = resolve_metadata(onnx_path, metadata)
    check_finite_weights(onnx_path)
    reasons: list[str] = []
    for i, name in enumerate(chain):
        try:
            loaded = _create_one(name, onnx_path, threads, meta, tensorrt_options)
        except BackendUnavailableError as exc:
            reasons.append(f"{name}: {exc}")
            nxt = chain[i + 1] if i + 1 < len(chain) else None
            log.warning("backend %s unavailable for %s: %s%s", name, onnx_path.name, exc,
                        f"; falling back to {nxt}" if nxt else "")
            continue
        if reasons:
            log.info("%s runs on %s (after: %s)", onnx_path.name, name, "; ".join(reasons))
        return loaded
    raise BackendUnavailableError(f"no backend can run {onnx_path}: " + "; ".join(reasons))
