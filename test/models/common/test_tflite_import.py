"""Reading a TensorFlow Lite flatbuffer: what is not one, or is damaged, is named in one error."""

from __future__ import annotations

from pathlib import Path

import pytest

from crowd_perception.core.errors import InputError
from crowd_perception.models.common.tflite_import import read_tflite


@pytest.mark.parametrize("data", [b"", b"\x00" * 64, b"PK\x03\x04" + b"\x00" * 60])
def test_bytes_without_the_tfl3_identifier_are_refused(data: bytes) -> None:
    with pytest.raises(InputError, match=r"model\.tflite: not a TensorFlow Lite model"):
        read_tflite(data, "model.tflite")


def test_damaged_flatbuffer_is_named(tmp_path: Path) -> None:
    pytest.importorskip("tflite", reason="the `pretrained` extra (tflite schema reader) is not installed")
    with pytest.raises(InputError, match=r"damaged\.tflite: damaged TensorFlow Lite file"):
        read_tflite(b"\x10\x00\x00\x00TFL3" + b"\xff" * 40, "damaged.tflite")
