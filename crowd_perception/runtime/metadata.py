"""The metadata file written beside every exported ONNX model, and its verification at load.

A model file alone does not say how to feed it (input size, normalisation, skeleton) nor whether
it is the file it claims to be. ``<model>.json`` records both; :func:`verify_model_file` refuses a
model whose sha256 or I/O names disagree with its metadata, so a stale or swapped file gives a
clear error instead of silently wrong poses.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..core.errors import CrowdPerceptionError

__all__ = [
    "FORMAT_VERSION",
    "ModelMismatchError",
    "Normalization",
    "ShapeProfile",
    "TensorSpec",
    "ModelMetadata",
    "metadata_path",
    "sha256_file",
    "atomic_write_bytes",
    "verify_model_file",
    "parse_export_info",
]

_Info = TypeVar("_Info")

FORMAT_VERSION = 1


class ModelMismatchError(CrowdPerceptionError, RuntimeError):
    """The model file does not match its metadata (wrong sha256, wrong I/O names, bad metadata)."""


@dataclass(frozen=True)
class Normalization:
    """``(pixel / 255 - mean) / std`` per channel, channels in ``color`` order ("rgb" or "bgr")."""

    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    color: str = "rgb"

    def __post_init__(self) -> None:
        if self.color not in ("rgb", "bgr"):
            raise ValueError(f"color must be 'rgb' or 'bgr', got {self.color!r}")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise ValueError(f"mean/std need 3 values and std > 0, got {self.mean}, {self.std}")


@dataclass(frozen=True)
class TensorSpec:
    """Name, shape (an int per static dimension, a name per dynamic one) and numpy dtype name."""

    name: str
    shape: tuple[int | str, ...]
    dtype: str = "float32"


@dataclass(frozen=True)
class ShapeProfile:
    """TensorRT optimisation profile of one input: the smallest, typical and largest shape."""

    min: tuple[int, ...]
    opt: tuple[int, ...]
    max: tuple[int, ...]

    def __post_init__(self) -> None:
        if not len(self.min) == len(self.opt) == len(self.max):
            raise ValueError(f"profile shapes differ in rank: {self}")
        if any(not (a <= b <= c) for a, b, c in zip(self.min, self.opt, self.max, strict=True)):
            raise ValueError(f"profile needs min <= opt <= max per dimension: {self}")


@dataclass(frozen=True)
class ModelMetadata:
    """Everything a backend and a runner need to know about one exported model."""

    name: str
    version: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    sha256: str
    opset: int
    input_size: tuple[int, int] | None = None  # (height, width) of the image input
    normalization: Normalization | None = None
    skeleton: str | None = None
    profiles: dict[str, ShapeProfile] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    producer: str = ""
    format_version: int = FORMAT_VERSION

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t.name for t in self.outputs]

    def profile(self, name: str) -> ShapeProfile:
        """The optimisation profile of input ``name`` (its fixed shape when it has no dynamic dimension)."""
        if name in self.profiles:
            return self.profiles[name]
        spec = next((t for t in self.inputs if t.name == name), None)
        if spec is None:
            raise KeyError(f"{self.name}: no input named {name!r} (inputs: {self.input_names})")
        if not all(isinstance(d, int) for d in spec.shape):
            raise ModelMismatchError(
                f"{self.name}: input {name!r} has dynamic shape {spec.shape} but the metadata gives no profile"
            )
        shape = tuple(int(d) for d in spec.shape)
        return ShapeProfile(shape, shape, shape)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelMetadata:
        try:
            if data.get("format_version") != FORMAT_VERSION:
                raise ModelMismatchError(f"unsupported metadata format_version {data.get('format_version')!r}")
            norm = data.get("normalization")
            size = data.get("input_size")
            return cls(
                name=str(data["name"]),
                version=str(data["version"]),
                inputs=tuple(_tensor_spec(t) for t in data["inputs"]),
                outputs=tuple(_tensor_spec(t) for t in data["outputs"]),
                sha256=str(data["sha256"]),
                opset=int(data["opset"]),
                input_size=_pair("input_size", size) if size is not None else None,
                normalization=Normalization(_three("normalization.mean", norm["mean"]),
                                            _three("normalization.std", norm["std"]), norm["color"]) if norm else None,
                skeleton=data.get("skeleton"),
                profiles={
                    k: ShapeProfile(*(_dims(f"profiles.{k}.{b}", p[b]) for b in ("min", "opt", "max")))
                    for k, p in data.get("profiles", {}).items()
                },
                extra=dict(data.get("extra", {})),
                producer=str(data.get("producer", "")),
            )
        except ModelMismatchError:
            raise
        except KeyError as exc:
            raise ModelMismatchError(f"malformed model metadata: missing key {exc}") from exc
        except (TypeError, ValueError, AttributeError) as exc:
            raise ModelMismatchError(f"malformed model metadata: {exc}") from exc

    def save(self, path: Path | str) -> Path:
        path = Path(path)
        atomic_write_bytes(path, (self.to_json() + "\n").encode("utf-8"))
        return path

    @classmethod
    def load(cls, path: Path | str) -> ModelMetadata:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ModelMismatchError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise ModelMismatchError(f"{path}: expected a JSON object")
        try:
            return cls.from_dict(data)
        except ModelMismatchError as exc:
            raise ModelMismatchError(f"{path}: {exc}") from exc


def _dims(key: str, value: Any, rank: int | None = None) -> tuple[int, ...]:
    """Positive integer dimensions (``input_size``, profile shapes); strings or floats are refused."""
    if not isinstance(value, list | tuple) or (rank is not None and len(value) != rank) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in value):
        size = f"{rank} " if rank else ""
        raise ModelMismatchError(f"malformed model metadata: {key} must be {size}positive integers, got {value!r}")
    return tuple(value)


def _pair(key: str, value: Any) -> tuple[int, int]:
    """Two positive integer dimensions (``input_size`` as height, width)."""
    first, second = _dims(key, value, 2)
    return first, second


def _three(key: str, value: Any) -> tuple[float, float, float]:
    """Three numbers (a per-channel normalisation constant)."""
    numbers = _numbers(key, value)
    if len(numbers) != 3:
        raise ModelMismatchError(f"malformed model metadata: {key} must be 3 numbers, got {value!r}")
    return numbers[0], numbers[1], numbers[2]


def _numbers(key: str, value: Any) -> tuple[float, ...]:
    if not isinstance(value, list | tuple) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise ModelMismatchError(f"malformed model metadata: {key} must be numbers, got {value!r}")
    return tuple(float(v) for v in value)


def _tensor_spec(data: dict[str, Any]) -> TensorSpec:
    shape = data["shape"]
    if not isinstance(shape, list | tuple) or not all(
            (isinstance(d, int) and not isinstance(d, bool) and d > 0) or isinstance(d, str) for d in shape):
        raise ModelMismatchError(f"malformed model metadata: tensor {data.get('name')!r} shape must hold positive "
                                 f"integers or dimension names, got {shape!r}")
    return TensorSpec(str(data["name"]), tuple(shape), str(data["dtype"]))


def metadata_path(onnx_path: Path | str) -> Path:
    """``model.onnx`` -> ``model.json`` (the metadata lives beside the model)."""
    return Path(onnx_path).with_suffix(".json")


def sha256_file(path: Path | str, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write ``data`` to a temporary file in the same folder, fsync, then rename over ``path``.

    A reader never sees a half-written file, even if the writer is killed mid-way.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def verify_model_file(onnx_path: Path | str, metadata: ModelMetadata) -> None:
    """Raise :class:`ModelMismatchError` unless the file's sha256 equals the metadata's."""
    actual = sha256_file(onnx_path)
    if actual != metadata.sha256:
        raise ModelMismatchError(
            f"{onnx_path}: sha256 {actual[:12]}… does not match its metadata ({metadata.sha256[:12]}…, "
            f"model {metadata.name!r} v{metadata.version}); re-export the model or fix the metadata file"
        )


def parse_export_info(path: Path | str, parse: Callable[..., _Info], *args: Any) -> _Info:
    """``parse(*args)`` of a model's export metadata (``extra``); a missing key, an unknown one or a wrong
    type is a :class:`ModelMismatchError` naming ``path``, not a bare ``TypeError`` from a dataclass."""
    try:
        return parse(*args)
    except (TypeError, KeyError, ValueError) as exc:
        raise ModelMismatchError(f"{path}: malformed export metadata ({type(exc).__name__}: {exc})") from exc
