"""Inference runtime shared by the nodes and the offline tools.

- :func:`create_backend` loads an ONNX model on ONNX Runtime (CPU or GPU providers) or TensorRT,
  with explicit fallback (:mod:`.backends`).
- :mod:`.export` writes ONNX + metadata from a torch module and checks PyTorch/backend parity.
- :mod:`.metadata` is the metadata file and its sha256 verification.
- :mod:`.preprocess` letterboxes, resizes and normalises image batches.
"""

from .backends import Backend, BackendUnavailableError, create_backend
from .metadata import ModelMetadata, ModelMismatchError, Normalization

__all__ = [
    "Backend",
    "BackendUnavailableError",
    "ModelMetadata",
    "ModelMismatchError",
    "Normalization",
    "create_backend",
]
