"""A CPU stand-in for ``tensorrt`` + ``cuda-python`` that runs the parsed ONNX with ONNX Runtime.

It implements exactly the API surface :mod:`crowd_perception.runtime.backends.tensorrt` uses, with
"device memory" in ctypes buffers, so the backend's build / cache / buffer / copy / shape logic is
exercised end to end on a machine without a GPU. The "engine" is the parsed ONNX file plus the
profile, serialised so that it survives the engine cache.
"""

from __future__ import annotations

import ctypes
import json
import types

import numpy as np
import onnxruntime as ort

ENGINE_MAGIC = b"FAKEENGINE"


class _Logger:
    WARNING = 2

    def __init__(self, level: int) -> None:
        self.level = level


class _Parser:
    def __init__(self, network: _Network, logger: _Logger) -> None:
        self.network, self.num_errors = network, 0

    def parse_from_file(self, path: str) -> bool:
        with open(path, "rb") as f:
            self.network.onnx = f.read()
        return self.network.onnx.startswith(b"\x08")  # an ONNX ModelProto starts with ir_version

    def get_error(self, index: int) -> str:
        return "not an ONNX file"


class _Network:
    def __init__(self, flags: int) -> None:
        self.flags, self.onnx = flags, b""


class _Profile:
    def __init__(self) -> None:
        self.shapes: dict[str, list[list[int]]] = {}

    def set_shape(self, name: str, lo, opt, hi) -> None:
        self.shapes[name] = [list(lo), list(opt), list(hi)]


class _TimingCache:
    def __init__(self, data: bytes) -> None:
        self.data = bytes(data) or b"timing"

    def serialize(self) -> bytes:
        return self.data


class _Config:
    def __init__(self) -> None:
        self.profiles: list[_Profile] = []
        self.pool: dict[int, int] = {}
        self.builder_optimization_level = 3
        self.progress_monitor = None
        self.timing: _TimingCache | None = None

    def set_memory_pool_limit(self, pool: int, size: int) -> None:
        self.pool[pool] = size

    def add_optimization_profile(self, profile: _Profile) -> int:
        self.profiles.append(profile)
        return len(self.profiles) - 1

    def create_timing_cache(self, data: bytes) -> _TimingCache:
        return _TimingCache(data)

    def set_timing_cache(self, cache: _TimingCache, ignore_mismatch: bool) -> bool:
        self.timing = cache
        return True

    def get_timing_cache(self) -> _TimingCache:
        return self.timing


class _Builder:
    builds = 0

    def __init__(self, logger: _Logger) -> None:
        self.logger = logger

    def create_network(self, flags: int) -> _Network:
        return _Network(flags)

    def create_builder_config(self) -> _Config:
        return _Config()

    def create_optimization_profile(self) -> _Profile:
        return _Profile()

    def build_serialized_network(self, network: _Network, config: _Config) -> bytes | None:
        assert network.flags == 1 << FakeTensorRT.NetworkDefinitionCreationFlag.STRONGLY_TYPED
        _Builder.builds += 1
        if config.progress_monitor is not None:
            config.progress_monitor.phase_start("Building engine", None, 2)
            for step in range(2):
                config.progress_monitor.step_complete("Building engine", step)
            config.progress_monitor.phase_finish("Building engine")
        header = json.dumps({"profile": config.profiles[0].shapes}).encode()
        return ENGINE_MAGIC + len(header).to_bytes(4, "little") + header + network.onnx


class _Engine:
    def __init__(self, onnx: bytes, profile: dict[str, list[list[int]]]) -> None:
        self.session = ort.InferenceSession(onnx, providers=["CPUExecutionProvider"])
        self.profile = profile
        # TensorRT lists tensors in its own order: outputs first here, to test that the backend reorders.
        self.names = [o.name for o in self.session.get_outputs()] + [i.name for i in self.session.get_inputs()]
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.num_io_tensors = len(self.names)

    def get_tensor_name(self, index: int) -> str:
        return self.names[index]

    def get_tensor_mode(self, name: str) -> str:
        return FakeTensorRT.TensorIOMode.INPUT if name in self.inputs else FakeTensorRT.TensorIOMode.OUTPUT

    def get_tensor_dtype(self, name: str) -> np.dtype:
        return np.dtype(np.float32)

    def get_tensor_profile_shape(self, name: str, profile: int) -> list[list[int]]:
        return self.profile[name]

    def create_execution_context(self) -> _Context:
        return _Context(self)


class _Context:
    def __init__(self, engine: _Engine) -> None:
        self.engine, self.shapes, self.addresses = engine, {}, {}
        self.executions = 0

    def set_input_shape(self, name: str, shape) -> bool:
        lo, _, hi = self.engine.profile[name]
        shape = tuple(int(d) for d in shape)
        if not all(a <= d <= b for a, d, b in zip(lo, shape, hi, strict=True)):
            return False
        self.shapes[name] = shape
        return True

    def _feeds(self, zeros: bool) -> dict[str, np.ndarray]:
        feeds = {}
        for name in self.engine.inputs:
            shape = self.shapes[name]
            if zeros:
                feeds[name] = np.zeros(shape, np.float32)
            else:
                size = int(np.prod(shape)) * 4
                feeds[name] = np.frombuffer(ctypes.string_at(self.addresses[name], size), np.float32).reshape(shape)
        return feeds

    def get_tensor_shape(self, name: str) -> tuple[int, ...]:
        if name in self.engine.inputs:
            return self.shapes[name]
        out = self.engine.session.run([name], self._feeds(zeros=True))[0]
        return out.shape

    def set_tensor_address(self, name: str, address: int) -> bool:
        self.addresses[name] = address
        return True

    def execute_async_v3(self, stream: int) -> bool:
        self.executions += 1
        names = [o.name for o in self.engine.session.get_outputs()]
        for name, value in zip(names, self.engine.session.run(names, self._feeds(zeros=False)), strict=True):
            value = np.ascontiguousarray(value, np.float32)
            ctypes.memmove(self.addresses[name], value.ctypes.data, value.nbytes)
        return True


class _Runtime:
    def __init__(self, logger: _Logger) -> None:
        self.logger = logger

    def deserialize_cuda_engine(self, data: bytes) -> _Engine | None:
        if not data.startswith(ENGINE_MAGIC):
            return None
        size = int.from_bytes(data[len(ENGINE_MAGIC) : len(ENGINE_MAGIC) + 4], "little")
        start = len(ENGINE_MAGIC) + 4
        header = json.loads(data[start : start + size])
        return _Engine(data[start + size :], header["profile"])


class _ProgressMonitor:
    def __init__(self) -> None:
        pass


class FakeTensorRT(types.SimpleNamespace):
    """The ``tensorrt`` module."""

    __version__ = "10.7.0"
    Logger = _Logger
    Builder = _Builder
    OnnxParser = _Parser
    Runtime = _Runtime
    IProgressMonitor = _ProgressMonitor
    NetworkDefinitionCreationFlag = types.SimpleNamespace(STRONGLY_TYPED=5)
    MemoryPoolType = types.SimpleNamespace(WORKSPACE=0)
    TensorIOMode = types.SimpleNamespace(INPUT="INPUT", OUTPUT="OUTPUT")

    @staticmethod
    def nptype(dtype: np.dtype) -> type:
        return dtype.type


class FakeCudart:
    """The ``cuda-python`` runtime module: host and "device" memory are both ctypes buffers."""

    cudaMemcpyKind = types.SimpleNamespace(cudaMemcpyHostToDevice=1, cudaMemcpyDeviceToHost=2)

    def __init__(self, gpu_name: str = "Fake GPU", capability: tuple[int, int] = (9, 0)) -> None:
        self.props = types.SimpleNamespace(name=gpu_name.encode(), major=capability[0], minor=capability[1])
        self.buffers: dict[int, ctypes.Array] = {}
        self.freed: list[int] = []
        self.copies = 0

    def _alloc(self, nbytes: int) -> tuple[int, int]:
        buffer = ctypes.create_string_buffer(nbytes)
        self.buffers[ctypes.addressof(buffer)] = buffer
        return 0, ctypes.addressof(buffer)

    def cudaSetDevice(self, device: int) -> tuple[int]:
        return (0,)

    def cudaGetDeviceProperties(self, device: int):
        return 0, self.props

    def cudaMalloc(self, nbytes: int):
        return self._alloc(nbytes)

    def cudaMallocHost(self, nbytes: int):
        return self._alloc(nbytes)

    def cudaFree(self, ptr: int):
        self.freed.append(ptr)
        return (0,)

    cudaFreeHost = cudaFree

    def cudaStreamCreate(self):
        return 0, 7

    def cudaStreamSynchronize(self, stream: int):
        return (0,)

    def cudaStreamDestroy(self, stream: int):
        return (0,)

    def cudaMemcpyAsync(self, dst: int, src: int, nbytes: int, kind: int, stream: int):
        assert stream == 7, "copies must go to the backend's own stream"
        self.copies += 1
        ctypes.memmove(dst, src, nbytes)
        return (0,)

    def cudaGetErrorString(self, err: int):
        return 0, b"fake error"
