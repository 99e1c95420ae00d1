"""TensorRT engine cache: the key that says when an engine is still valid, the file format, the policy.

This module does not import TensorRT, so every decision it makes is unit-tested on CPU. A cached
engine is only reused when its key matches exactly: ONNX sha256, build-config hash (precision,
profiles, workspace, optimisation level, FP16 converter), TensorRT version, GPU name and compute
capability, CPU architecture. The file carries the key and a sha256 of the engine bytes in a small
header, is written atomically, and anything unexpected (truncated, corrupt, another key, an engine
TensorRT refuses to deserialise) leads to a logged rebuild, never to running a wrong engine. A cache
folder that cannot be read or written (read-only file system, no permission) never costs the engine
just built: it is kept in memory for this process, with one warning per folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import struct
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

from ...core.errors import CrowdPerceptionError
from ..metadata import ShapeProfile, atomic_write_bytes

__all__ = [
    "BuildConfig",
    "EngineKey",
    "EngineCacheError",
    "MAGIC",
    "engine_path",
    "timing_cache_path",
    "write_engine",
    "read_engine",
    "load_or_build",
    "read_timing_cache",
    "write_timing_cache",
]

log = logging.getLogger(__name__)

MAGIC = b"CPTRTENG"
_HEADER = struct.Struct("<8sII")  # magic, file format version, header-JSON length
_FILE_VERSION = 1

T = TypeVar("T")
_WARNED_FOLDERS: set[Path] = set()  # unwritable cache folders already reported


class EngineCacheError(CrowdPerceptionError, RuntimeError):
    """A freshly built engine is unusable (TensorRT refused to deserialise its own output)."""


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class BuildConfig:
    """Everything besides the ONNX file and the platform that changes the built engine."""

    precision: str = "fp16"  # "fp16": build strongly typed from an FP16-converted ONNX; "fp32": as exported
    profiles: dict[str, ShapeProfile] = field(default_factory=dict)
    workspace_bytes: int = 1 << 30
    optimization_level: int = 3
    converter: str = ""  # the FP16 converter and its version (a new converter may emit another graph)

    def __post_init__(self) -> None:
        if self.precision not in ("fp16", "fp32"):
            raise ValueError(f"precision must be 'fp16' or 'fp32', got {self.precision!r}")
        if self.workspace_bytes <= 0 or not 0 <= self.optimization_level <= 5:
            raise ValueError(f"bad workspace {self.workspace_bytes} or optimisation level {self.optimization_level}")

    def digest(self) -> str:
        data = asdict(self)
        data["profiles"] = {k: asdict(v) for k, v in sorted(self.profiles.items())}
        return _digest(data)


@dataclass(frozen=True)
class EngineKey:
    """Identity of a built engine; two engines are interchangeable only when every field matches."""

    onnx_sha256: str
    build_config: str
    tensorrt_version: str
    gpu_name: str
    compute_capability: str
    cpu_arch: str

    def differences(self, other: EngineKey) -> list[str]:
        """``"field: cached != wanted"`` for each field that differs."""
        mine, theirs = asdict(self), asdict(other)
        return [f"{k}: {theirs[k]!r} != {mine[k]!r}" for k in mine if mine[k] != theirs[k]]

    def platform_digest(self) -> str:
        """Hash of the platform fields alone (the timing cache is per platform, not per model)."""
        return _digest([self.tensorrt_version, self.gpu_name, self.compute_capability, self.cpu_arch])[:16]


def engine_path(cache_dir: Path | str, model: str, precision: str) -> Path:
    """One engine file per model and precision in a cache folder; a stale one is replaced in place."""
    return Path(cache_dir) / f"{model}.{precision}.engine"


def timing_cache_path(cache_dir: Path | str, key: EngineKey) -> Path:
    """The persisted TensorRT timing cache for this platform (shared by all models)."""
    return Path(cache_dir) / f"timing-{key.platform_digest()}.cache"


def write_engine(path: Path | str, key: EngineKey, payload: bytes) -> None:
    """Atomically write ``payload`` (a serialised engine) with its key and checksum."""
    header = json.dumps(
        {"key": asdict(key), "payload_sha256": hashlib.sha256(payload).hexdigest(), "payload_size": len(payload)},
        sort_keys=True,
    ).encode()
    atomic_write_bytes(path, _HEADER.pack(MAGIC, _FILE_VERSION, len(header)) + header + payload)


def read_engine(path: Path | str, key: EngineKey) -> tuple[bytes | None, str]:
    """``(payload, "")`` when ``path`` holds a valid engine for ``key``, else ``(None, why not)``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, f"no cached engine at {path}"
    except OSError as exc:
        return None, f"cannot read {path}: {exc}"
    if len(data) < _HEADER.size:
        return None, f"{path} is truncated ({len(data)} bytes)"
    magic, version, header_len = _HEADER.unpack_from(data)
    if magic != MAGIC or version != _FILE_VERSION:
        return None, f"{path} is not an engine-cache file of format {_FILE_VERSION} (magic {magic!r}, version {version})"
    try:
        header = json.loads(data[_HEADER.size : _HEADER.size + header_len])
        cached = EngineKey(**header["key"])
        payload = data[_HEADER.size + header_len :]
        size, checksum = int(header["payload_size"]), str(header["payload_sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"{path} has a corrupt header ({exc!r})"
    if len(payload) != size or hashlib.sha256(payload).hexdigest() != checksum:
        return None, f"{path} is corrupt (engine bytes do not match their checksum)"
    differences = key.differences(cached)
    if differences:
        return None, f"{path} was built for another model/config/platform ({'; '.join(differences)})"
    return payload, ""


def load_or_build(
    path: Path | str,
    key: EngineKey,
    build: Callable[[], bytes],
    deserialize: Callable[[bytes], T | None],
    rebuild: bool = False,
) -> tuple[T, bool]:
    """Deserialise the cached engine for ``key``, or build, check and cache a new one.

    Returns ``(engine, built)``. A cached engine that is missing, corrupt, keyed differently or
    refused by ``deserialize`` (returns ``None``) is rebuilt with a logged reason; a freshly built
    engine that does not deserialise raises :class:`EngineCacheError` and is not cached; one that
    cannot be cached (unwritable folder) is returned all the same.
    """
    reason = "rebuild requested"
    if not rebuild:
        payload, reason = read_engine(path, key)
        if payload is not None:
            engine = deserialize(payload)
            if engine is not None:
                log.debug("reusing TensorRT engine %s", path)
                return engine, False
            reason = f"TensorRT could not deserialise {path}"
    log.warning("building TensorRT engine %s: %s", path, reason)
    payload = build()
    engine = deserialize(payload)
    if engine is None:
        raise EngineCacheError(f"TensorRT could not deserialise the engine it just built for {path}")
    try:
        write_engine(path, key, payload)
    except OSError as exc:
        _warn_unwritable(Path(path), exc)
    return engine, True


def read_timing_cache(path: Path | str) -> bytes:
    """The persisted timing cache, or empty bytes when there is none or it cannot be read."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return b""
    except OSError as exc:
        log.warning("cannot read the TensorRT timing cache %s (%s); starting a new one", path, exc)
        return b""


def write_timing_cache(path: Path | str, data: bytes) -> None:
    """Persist the timing cache; an unwritable cache folder is warned about once, never fatal."""
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        _warn_unwritable(Path(path), exc)


def _warn_unwritable(path: Path, exc: OSError) -> None:
    if path.parent in _WARNED_FOLDERS:
        return
    _WARNED_FOLDERS.add(path.parent)
    log.warning("TensorRT engine cache %s is not writable (%s): the engine is kept in memory for this process "
                "and rebuilt at the next start; set CROWD_PERCEPTION_ENGINE_CACHE to a writable folder",
                path.parent, exc)
