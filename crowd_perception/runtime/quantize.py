"""Optional INT8 models through explicit Q/DQ quantisation (ONNX Runtime ``quantize_static``).

Symmetric signed INT8 for weights (per output channel) and activations, QDQ format so that the
same file runs on ORT CPU and, via its Q/DQ nodes, as an explicitly quantised TensorRT network.
Activation ranges come from real pre-processed inputs fed by a calibration reader. The cost in
accuracy is measured, not assumed: :func:`output_error` compares the INT8 and float models.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from onnxruntime.quantization import CalibrationDataReader

from .metadata import ModelMetadata, metadata_path, sha256_file

__all__ = ["FeedCalibrationReader", "quantize_int8", "output_error"]


class FeedCalibrationReader(CalibrationDataReader):
    """Calibration feeds (``{input name: array}`` dicts) handed to ``quantize_static`` one by one."""

    def __init__(self, feeds: Sequence[Mapping[str, np.ndarray]]) -> None:
        self._items = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        item = next(self._items, None)
        return None if item is None else {k: np.ascontiguousarray(v) for k, v in item.items()}


def quantize_int8(
    onnx_path: Path | str,
    out_path: Path | str,
    calibration_feeds: Iterable[Mapping[str, np.ndarray]],
    per_channel: bool = True,
) -> ModelMetadata:
    """Write a QDQ INT8 copy of ``onnx_path`` and its metadata; returns the new metadata.

    The source model must have metadata beside it (export writes one); the INT8 metadata copies
    it with the new sha256 and a ``quantization`` entry in ``extra``.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    onnx_path, out_path = Path(onnx_path), Path(out_path)
    source = ModelMetadata.load(metadata_path(onnx_path))
    feeds = list(calibration_feeds)
    if not feeds:
        raise ValueError("quantize_int8 needs at least one calibration feed")
    reader = FeedCalibrationReader(feeds)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(onnx_path), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(out_path),
            reader,
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"ActivationSymmetric": True, "WeightSymmetric": True},
        )
    metadata = dataclasses.replace(
        source,
        sha256=sha256_file(out_path),
        extra={
            **source.extra,
            "quantization": {
                "format": "QDQ",
                "weights": "int8 symmetric" + (" per-channel" if per_channel else ""),
                "activations": "int8 symmetric",
                "calibration_batches": len(feeds),
                "source_sha256": source.sha256,
            },
        },
    )
    metadata.save(metadata_path(out_path))
    return metadata


def output_error(reference: Mapping[str, np.ndarray], other: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Per output: max and mean absolute difference, and the mean relative to the reference's spread."""
    report = {}
    for name, ref in reference.items():
        diff = np.abs(np.asarray(other[name], np.float64) - ref)
        spread = float(np.std(ref)) or 1.0
        report[name] = {"max_abs": float(diff.max()), "mean_abs": float(diff.mean()), "mean_rel": float(diff.mean() / spread)}
    return report
