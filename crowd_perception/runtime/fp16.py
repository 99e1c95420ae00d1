"""FP16 conversion of an exported ONNX model, the input of strongly typed TensorRT builds.

TensorRT 10 deprecates (and 11 removes) the builder's FP16 flag: a strongly typed network takes
its precision from the ONNX types. We therefore convert float32 weights and activations to float16
with ONNX Runtime's converter, keeping the graph's inputs and outputs float32 (Casts at the edges)
so callers feed and read the same arrays whatever the precision.
"""

from __future__ import annotations

from pathlib import Path

from .metadata import atomic_write_bytes

__all__ = ["converter_version", "convert_to_fp16"]


def converter_version() -> str:
    """Names the converter and its version; part of the engine build-config hash."""
    import onnxruntime

    return f"onnxruntime.transformers.float16 {onnxruntime.__version__}"


def convert_to_fp16(onnx_path: Path | str, out_path: Path | str) -> Path:
    """Write a float16 copy of ``onnx_path`` (float32 I/O kept) to ``out_path``; returns ``out_path``."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16
    from onnxruntime.transformers.onnx_model import OnnxModel

    model = onnx.load(str(onnx_path))
    converted = convert_float_to_float16(model, keep_io_types=True, disable_shape_infer=False)
    # The converter appends the I/O Casts at the end of the node list; ONNX requires topological order.
    OnnxModel(converted).topological_sort()
    onnx.checker.check_model(converted)
    out_path = Path(out_path)
    atomic_write_bytes(out_path, converted.SerializeToString())
    return out_path
