"""Native TensorRT backend (10.x tensor-name API, written for 11.x too), with a cached engine.

Build: strongly typed network (``NetworkDefinitionCreationFlag.STRONGLY_TYPED``) parsed from the
ONNX — for ``precision="fp16"`` from an FP16-converted copy (:mod:`..fp16`), because the builder's
FP16 flag is deprecated in 10 and gone in 11 — one optimisation profile from the metadata's
profiles, a workspace limit, and a timing cache persisted per platform. The engine is cached by
:mod:`.engine_cache` and rebuilt whenever its key differs or it does not deserialise.

Run: one execution context and one CUDA stream per backend; device and pinned host buffers are
allocated once at the profile's maximum shapes through ``cuda-python`` (no pycuda, no torch), and
each call sets the input shapes, copies in, ``execute_async_v3``, copies out and synchronises.

Missing ``tensorrt``, missing ``cuda-python`` or no CUDA device raise
:class:`BackendUnavailableError` so ``create_backend`` can fall back with a clear message.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..fp16 import convert_to_fp16, converter_version
from ..metadata import ModelMetadata, ShapeProfile, sha256_file
from .base import Backend, BackendUnavailableError
from .engine_cache import (
    BuildConfig,
    EngineKey,
    engine_path,
    load_or_build,
    read_timing_cache,
    timing_cache_path,
    write_timing_cache,
)

__all__ = ["TensorRTBackend", "default_cache_dir", "import_tensorrt", "import_cudart", "static_profiles"]

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``$CROWD_PERCEPTION_ENGINE_CACHE`` or ``~/.cache/crowd_perception/engines``."""
    env = os.environ.get("CROWD_PERCEPTION_ENGINE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "crowd_perception" / "engines"


def import_tensorrt() -> Any:
    """The ``tensorrt`` module, or :class:`BackendUnavailableError` saying how to get it.

    The API lives in the ``tensorrt-cu1x-bindings`` wheel as ``tensorrt_bindings``; the ``tensorrt``
    name comes from a metapackage over it, so the bindings alone (carried as wheels, e.g. by
    ``scripts/gpu_check.sh``) are used under their own name.
    """
    try:
        import tensorrt
    except ImportError as exc:
        try:
            import tensorrt_bindings as tensorrt
        except ImportError:
            raise BackendUnavailableError(
                f"TensorRT is not installed ({exc}); install the 'tensorrt' extra on a GPU machine"
            ) from exc
    major = int(str(tensorrt.__version__).split(".")[0])
    if major < 10:
        raise BackendUnavailableError(f"TensorRT {tensorrt.__version__} is too old; the tensor-name API needs >= 10")
    return tensorrt


def import_cudart() -> Any:
    """cuda-python's runtime API (``cuda.bindings.runtime`` in 12.6+, ``cuda.cudart`` before)."""
    try:
        from cuda.bindings import runtime as cudart
    except ImportError:
        try:
            from cuda import cudart
        except ImportError as exc:
            raise BackendUnavailableError(f"cuda-python is not installed ({exc}); install the 'tensorrt' extra") from exc
    return cudart


def _call(cudart: Any, result: Any) -> Any:
    """Unwrap a cuda-python ``(error, value...)`` tuple, raising on any error."""
    err, *values = result if isinstance(result, tuple) else (result,)
    if int(err) != 0:
        raise RuntimeError(f"CUDA error {err}: {_error_string(cudart, err)}")
    return values[0] if len(values) == 1 else tuple(values) or None


def _error_string(cudart: Any, err: Any) -> str:
    with contextlib.suppress(Exception):
        return cudart.cudaGetErrorString(err)[1].decode()
    return "unknown"


def static_profiles(onnx_path: Path, metadata: ModelMetadata | None) -> dict[str, ShapeProfile]:
    """One profile per input: from the metadata, or the ONNX's static shapes when there is none."""
    if metadata is not None:
        return {name: metadata.profile(name) for name in metadata.input_names}
    import onnx

    profiles = {}
    for value in onnx.load(str(onnx_path), load_external_data=False).graph.input:
        dims = value.type.tensor_type.shape.dim
        if not all(d.HasField("dim_value") for d in dims):
            raise BackendUnavailableError(
                f"{onnx_path}: input {value.name!r} has dynamic dimensions and the model has no metadata "
                "with optimisation profiles; export it with `crowd-perception export`"
            )
        shape = tuple(d.dim_value for d in dims)
        profiles[value.name] = ShapeProfile(shape, shape, shape)
    return profiles


def _progress_monitor(trt: Any, callback: Any) -> Any:
    """A ``trt.IProgressMonitor`` reporting builder progress to ``callback(phase, step, steps)``.

    The class is defined here because its base only exists once TensorRT is imported.
    """

    class Monitor(trt.IProgressMonitor):
        def __init__(self) -> None:
            trt.IProgressMonitor.__init__(self)
            self.steps: dict[str, int] = {}

        def phase_start(self, phase_name: str, parent_phase: str | None, num_steps: int) -> None:
            self.steps[phase_name] = num_steps
            callback(phase_name, 0, num_steps)

        def step_complete(self, phase_name: str, step: int) -> bool:
            callback(phase_name, step + 1, self.steps.get(phase_name, 0))
            return True  # False would cancel the build

        def phase_finish(self, phase_name: str) -> None:
            self.steps.pop(phase_name, None)

    return Monitor()


class TensorRTBackend(Backend):
    """A TensorRT engine for one ONNX model, built or loaded from the engine cache."""

    def __init__(
        self,
        onnx_path: Path | str,
        metadata: ModelMetadata | None = None,
        cache_dir: Path | str | None = None,
        precision: str = "fp16",
        workspace_bytes: int = 1 << 30,
        rebuild: bool = False,
        progress: Any = None,
        device: int = 0,
    ) -> None:
        trt = import_tensorrt()
        cudart = import_cudart()
        self.name = "tensorrt"
        self.metadata = metadata
        self._trt, self._cudart = trt, cudart
        self._allocations: list[tuple[str, int]] = []
        self._stream: Any = None  # a cudaStream_t once the engine is loaded
        onnx_path = Path(onnx_path)
        try:
            _call(cudart, cudart.cudaSetDevice(device))
            props = _call(cudart, cudart.cudaGetDeviceProperties(device))
        except RuntimeError as exc:
            raise BackendUnavailableError(f"no usable CUDA device {device}: {exc}") from exc
        gpu_name = props.name.decode() if isinstance(props.name, bytes) else str(props.name)
        if precision == "fp16" and metadata is not None and "quantization" in metadata.extra:
            # A Q/DQ model already states its precision per tensor; converting it to FP16 would fight that.
            log.info("%s is Q/DQ-quantised: building it as exported (no FP16 conversion)", onnx_path.name)
            precision = "fp32"
        self.build_config = BuildConfig(
            precision=precision,
            profiles=static_profiles(onnx_path, metadata),
            workspace_bytes=workspace_bytes,
            converter=converter_version() if precision == "fp16" else "",
        )
        self.key = EngineKey(
            onnx_sha256=metadata.sha256 if metadata is not None else sha256_file(onnx_path),
            build_config=self.build_config.digest(),
            tensorrt_version=str(trt.__version__),
            gpu_name=gpu_name.strip("\x00").strip(),
            compute_capability=f"{props.major}.{props.minor}",
            cpu_arch=platform.machine(),
        )
        cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.engine_path = engine_path(cache_dir, onnx_path.stem, precision)
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        try:
            self.engine, self.built = load_or_build(
                self.engine_path,
                self.key,
                build=lambda: self._build(onnx_path, timing_cache_path(cache_dir, self.key), progress),
                deserialize=self._deserialize,
                rebuild=rebuild,
            )
        except RuntimeError as exc:
            raise BackendUnavailableError(f"TensorRT engine for {onnx_path.name} unavailable: {exc}") from exc
        self.context = self.engine.create_execution_context()
        self._setup_io()

    # -- build ------------------------------------------------------------------------------------

    def _deserialize(self, payload: bytes) -> Any:
        """The engine, or ``None`` when TensorRT refuses the bytes (it logs why), whatever way it refuses."""
        try:
            return self._runtime.deserialize_cuda_engine(payload)
        except Exception as exc:  # some TensorRT versions raise instead of returning None
            log.warning("TensorRT could not deserialise an engine: %s", exc)
            return None

    def _build(self, onnx_path: Path, timing_path: Path, progress: Any) -> bytes:
        trt = self._trt
        builder = trt.Builder(self._logger)
        network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED))
        parser = trt.OnnxParser(network, self._logger)
        with tempfile.TemporaryDirectory() as tmp:
            source = onnx_path
            if self.build_config.precision == "fp16":
                source = convert_to_fp16(onnx_path, Path(tmp) / f"{onnx_path.stem}.fp16.onnx")
            if not parser.parse_from_file(str(source)):
                errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
                raise RuntimeError(f"TensorRT cannot parse {onnx_path.name}: {errors}")
        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, self.build_config.workspace_bytes)
        config.builder_optimization_level = self.build_config.optimization_level
        profile = builder.create_optimization_profile()
        for name, shapes in self.build_config.profiles.items():
            profile.set_shape(name, shapes.min, shapes.opt, shapes.max)
        config.add_optimization_profile(profile)
        timing = config.create_timing_cache(read_timing_cache(timing_path))
        if not config.set_timing_cache(timing, ignore_mismatch=False):
            log.warning("timing cache %s does not fit this TensorRT/GPU; starting a new one", timing_path)
            config.set_timing_cache(config.create_timing_cache(b""), ignore_mismatch=False)
        if progress is not None and hasattr(trt, "IProgressMonitor"):
            config.progress_monitor = _progress_monitor(trt, progress)
        serialized = builder.build_serialized_network(network, config)
        if serialized is None:
            raise RuntimeError(f"TensorRT failed to build an engine for {onnx_path.name} (see the TensorRT log)")
        write_timing_cache(timing_path, bytes(config.get_timing_cache().serialize()))
        return bytes(serialized)

    # -- buffers ----------------------------------------------------------------------------------

    def _alloc(self, kind: str, nbytes: int) -> int:
        cudart = self._cudart
        ptr = _call(cudart, cudart.cudaMalloc(nbytes) if kind == "device" else cudart.cudaMallocHost(nbytes))
        self._allocations.append((kind, int(ptr)))
        return int(ptr)

    def _setup_io(self) -> None:
        """Allocate device and pinned host buffers once, at each tensor's largest profile shape."""
        trt, engine, context = self._trt, self.engine, self.context
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        self.input_names = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        self.output_names = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
        if self.metadata is not None:  # keep the ONNX order; TensorRT may list tensors differently
            self.input_names = [n for n in self.metadata.input_names if n in self.input_names] or self.input_names
            self.output_names = [n for n in self.metadata.output_names if n in self.output_names] or self.output_names
        self._check_graph(str(self.engine_path), [(n, None) for n in self.input_names],  # shapes: the profiles
                          self.output_names)
        dtypes = {n: np.dtype(trt.nptype(engine.get_tensor_dtype(n))) for n in names}
        self.input_dtypes = {n: dtypes[n] for n in self.input_names}
        self._max_shapes: dict[str, tuple[int, ...]] = {}
        self._profile_ranges: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
        for name in self.input_names:
            lo, _, hi = (tuple(s) for s in engine.get_tensor_profile_shape(name, 0))
            self._profile_ranges[name] = (lo, hi)
            self._max_shapes[name] = hi
            context.set_input_shape(name, hi)
        for name in self.output_names:
            shape = tuple(context.get_tensor_shape(name))
            if any(d < 0 for d in shape):
                raise BackendUnavailableError(f"output {name!r} has a data-dependent shape {shape}; not supported")
            self._max_shapes[name] = shape
        self._stream = _call(self._cudart, self._cudart.cudaStreamCreate())
        self._device: dict[str, int] = {}
        self._host: dict[str, np.ndarray] = {}
        for name in names:
            nbytes = int(np.prod(self._max_shapes[name])) * dtypes[name].itemsize
            self._device[name] = self._alloc("device", nbytes)
            host_ptr = self._alloc("host", nbytes)
            raw = (ctypes.c_uint8 * nbytes).from_address(host_ptr)
            self._host[name] = np.frombuffer(raw, dtype=dtypes[name])
            context.set_tensor_address(name, self._device[name])

    # -- run --------------------------------------------------------------------------------------

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        cudart, context = self._cudart, self.context
        h2d, d2h = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice, cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost
        for name in self.input_names:
            array = feeds[name]
            lo, hi = self._profile_ranges[name]
            if array.ndim != len(hi) or any(not a <= d <= b for a, d, b in zip(lo, array.shape, hi, strict=True)):
                raise ValueError(f"{self.name}: input {name!r} shape {array.shape} outside the engine profile {lo}..{hi}")
            if not context.set_input_shape(name, array.shape):
                raise RuntimeError(f"TensorRT rejected shape {array.shape} for input {name!r}")
            host = self._host[name][: array.size]
            np.copyto(host, array.reshape(-1))
            _call(cudart, cudart.cudaMemcpyAsync(self._device[name], host.ctypes.data, array.nbytes, h2d, self._stream))
        if not context.execute_async_v3(int(self._stream)):  # TensorRT takes the raw handle
            raise RuntimeError(f"{self.name}: execute_async_v3 failed (see the TensorRT log)")
        shapes = {name: tuple(context.get_tensor_shape(name)) for name in self.output_names}
        for name, shape in shapes.items():
            host = self._host[name]
            nbytes = int(np.prod(shape)) * host.itemsize
            _call(cudart, cudart.cudaMemcpyAsync(host.ctypes.data, self._device[name], nbytes, d2h, self._stream))
        _call(cudart, cudart.cudaStreamSynchronize(self._stream))
        return {name: self._host[name][: int(np.prod(shape))].reshape(shape).copy() for name, shape in shapes.items()}

    def close(self) -> None:
        """Free the buffers and the stream (idempotent)."""
        cudart = getattr(self, "_cudart", None)
        if cudart is None:
            return
        if getattr(self, "_stream", None) is not None:
            cudart.cudaStreamSynchronize(self._stream)
        for kind, ptr in reversed(self._allocations):
            if kind == "device":
                cudart.cudaFree(ptr)
            else:
                cudart.cudaFreeHost(ptr)
        self._allocations.clear()
        if self._stream is not None:
            cudart.cudaStreamDestroy(self._stream)
            self._stream = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
