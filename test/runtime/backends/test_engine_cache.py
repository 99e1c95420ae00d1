"""Engine cache policy, tested without TensorRT: keys, file format, corruption, invalidation, rebuild."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from crowd_perception.runtime.backends.engine_cache import (
    BuildConfig,
    EngineCacheError,
    EngineKey,
    engine_path,
    load_or_build,
    read_engine,
    timing_cache_path,
    write_engine,
)
from crowd_perception.runtime.metadata import ShapeProfile

KEY = EngineKey(
    onnx_sha256="ab" * 32,
    build_config=BuildConfig().digest(),
    tensorrt_version="10.7.0",
    gpu_name="NVIDIA H100 80GB HBM3",
    compute_capability="9.0",
    cpu_arch="x86_64",
)


class FakeTensorRT:
    """Stands in for builder + runtime: counts builds, 'deserialises' only bytes it built."""

    def __init__(self, payload: bytes = b"engine-v1") -> None:
        self.payload, self.builds = payload, 0

    def build(self) -> bytes:
        self.builds += 1
        return self.payload

    def deserialize(self, data: bytes) -> str | None:
        return data.decode() if data.startswith(b"engine") else None


def test_build_config_digest_changes_with_every_field():
    base = BuildConfig(profiles={"crops": ShapeProfile((1, 3, 8, 8), (4, 3, 8, 8), (8, 3, 8, 8))})
    variants = [
        dataclasses.replace(base, precision="fp32"),
        dataclasses.replace(base, workspace_bytes=1 << 20),
        dataclasses.replace(base, optimization_level=5),
        dataclasses.replace(base, converter="other 2.0"),
        dataclasses.replace(base, profiles={"crops": ShapeProfile((1, 3, 8, 8), (4, 3, 8, 8), (80, 3, 8, 8))}),
    ]
    digests = {base.digest(), *(v.digest() for v in variants)}
    assert len(digests) == 1 + len(variants)
    assert BuildConfig(profiles=dict(base.profiles)).digest() == base.digest()  # deterministic
    with pytest.raises(ValueError):
        BuildConfig(precision="int4")


def test_first_use_builds_and_second_reuses(tmp_path):
    path, trt = engine_path(tmp_path, "pose2d", "fp16"), FakeTensorRT()
    engine, built = load_or_build(path, KEY, trt.build, trt.deserialize)
    assert (engine, built, trt.builds) == ("engine-v1", True, 1)
    engine, built = load_or_build(path, KEY, trt.build, trt.deserialize)
    assert (engine, built, trt.builds) == ("engine-v1", False, 1)
    assert path.name == "pose2d.fp16.engine"


@pytest.mark.parametrize(
    "field, value",
    [
        ("gpu_name", "NVIDIA GeForce RTX 4090"),
        ("compute_capability", "8.9"),
        ("tensorrt_version", "11.0.0"),
        ("onnx_sha256", "cd" * 32),
        ("build_config", BuildConfig(precision="fp32").digest()),
        ("cpu_arch", "aarch64"),
    ],
)
def test_engine_for_another_gpu_version_model_or_config_is_rebuilt(tmp_path, caplog, field, value):
    path, trt = tmp_path / "m.engine", FakeTensorRT()
    write_engine(path, dataclasses.replace(KEY, **{field: value}), b"engine-old")
    payload, reason = read_engine(path, KEY)
    assert payload is None and field in reason and value in reason
    with caplog.at_level(logging.WARNING):
        engine, built = load_or_build(path, KEY, trt.build, trt.deserialize)
    assert (engine, built) == ("engine-v1", True) and field in caplog.text
    assert read_engine(path, KEY) == (b"engine-v1", "")  # replaced in place with the right key


@pytest.mark.parametrize(
    "corrupt, reason",
    [
        (lambda b: b[:5], "truncated"),
        (lambda b: b"XXXXXXXX" + b[8:], "not an engine-cache file"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "checksum"),
        (lambda b: b[:-3], "checksum"),
        (lambda b: b[:20] + b"{" + b[21:], "corrupt header"),
    ],
)
def test_corrupt_engine_file_is_detected_and_rebuilt(tmp_path, corrupt, reason):
    path, trt = tmp_path / "m.engine", FakeTensorRT()
    write_engine(path, KEY, b"engine-v0")
    path.write_bytes(corrupt(path.read_bytes()))
    payload, why = read_engine(path, KEY)
    assert payload is None and reason in why
    assert load_or_build(path, KEY, trt.build, trt.deserialize) == ("engine-v1", True)


def test_engine_that_tensorrt_refuses_is_rebuilt(tmp_path):
    path, trt = tmp_path / "m.engine", FakeTensorRT()
    write_engine(path, KEY, b"garbage-with-valid-checksum")
    assert load_or_build(path, KEY, trt.build, trt.deserialize) == ("engine-v1", True)


def test_bad_fresh_build_is_an_error_and_not_cached(tmp_path):
    path, trt = tmp_path / "m.engine", FakeTensorRT(payload=b"broken")
    with pytest.raises(EngineCacheError, match="just built"):
        load_or_build(path, KEY, trt.build, trt.deserialize)
    assert not path.exists()


def test_rebuild_forced(tmp_path):
    path, trt = tmp_path / "m.engine", FakeTensorRT()
    load_or_build(path, KEY, trt.build, trt.deserialize)
    load_or_build(path, KEY, trt.build, trt.deserialize, rebuild=True)
    assert trt.builds == 2


def test_timing_cache_is_per_platform_not_per_model(tmp_path):
    other_model = dataclasses.replace(KEY, onnx_sha256="ee" * 32, build_config="x")
    other_gpu = dataclasses.replace(KEY, gpu_name="Orin")
    assert timing_cache_path(tmp_path, KEY) == timing_cache_path(tmp_path, other_model)
    assert timing_cache_path(tmp_path, KEY) != timing_cache_path(tmp_path, other_gpu)


def test_unwritable_cache_keeps_the_fresh_engine_and_warns_once(tmp_path, caplog):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder should be")  # mkdir fails, also for root
    trt = FakeTensorRT()
    with caplog.at_level(logging.WARNING):
        for model in ("detector", "pose2d"):
            engine, built = load_or_build(engine_path(blocker / "engines", model, "fp16"), KEY, trt.build, trt.deserialize)
            assert (engine, built) == ("engine-v1", True)  # built and used, not discarded
    assert trt.builds == 2 and sum("is not writable" in r.message for r in caplog.records) == 1


def test_unreadable_or_unwritable_timing_cache_is_not_fatal(tmp_path, caplog):
    from crowd_perception.runtime.backends.engine_cache import read_timing_cache, write_timing_cache

    assert read_timing_cache(tmp_path / "missing.cache") == b""
    assert read_timing_cache(tmp_path) == b""  # a folder: IsADirectoryError, a fresh cache instead
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with caplog.at_level(logging.WARNING):
        write_timing_cache(blocker / "sub" / "timing.cache", b"t")
    assert "is not writable" in caplog.text
