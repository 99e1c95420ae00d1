"""Metadata round trip, atomic writes and verification of a model file against its metadata."""

from __future__ import annotations

import json

import pytest

from crowd_perception.runtime.metadata import (
    ModelMetadata,
    ModelMismatchError,
    ShapeProfile,
    atomic_write_bytes,
    metadata_path,
    sha256_file,
    verify_model_file,
)


def test_round_trip(tiny_model):
    path, _ = tiny_model
    meta = ModelMetadata.load(metadata_path(path))
    assert ModelMetadata.from_dict(json.loads(meta.to_json())) == meta
    assert meta.profile("image") == meta.profiles["image"]


def test_verify_detects_changed_model(tiny_copy):
    meta = ModelMetadata.load(metadata_path(tiny_copy))
    verify_model_file(tiny_copy, meta)
    tiny_copy.write_bytes(tiny_copy.read_bytes() + b"\0")
    with pytest.raises(ModelMismatchError, match="sha256"):
        verify_model_file(tiny_copy, meta)


@pytest.mark.parametrize(
    "edit",
    [lambda d: d.pop("sha256"), lambda d: d.update(format_version=99), lambda d: d.update(inputs=[{"name": "x"}])],
)
def test_malformed_metadata_is_refused(tiny_copy, edit):
    path = metadata_path(tiny_copy)
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(ModelMismatchError):
        ModelMetadata.load(path)


def test_not_json(tmp_path):
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(ModelMismatchError, match="JSON"):
        ModelMetadata.load(tmp_path / "m.json")


def test_static_input_profile_and_missing_profile(tiny_model):
    meta = ModelMetadata.load(metadata_path(tiny_model[0]))
    no_profile = ModelMetadata(**{**meta.__dict__, "profiles": {}})
    with pytest.raises(ModelMismatchError, match="no profile"):
        no_profile.profile("image")
    with pytest.raises(KeyError):
        meta.profile("nope")
    with pytest.raises(ValueError):
        ShapeProfile((1, 3), (4, 3), (2, 3))


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sub" / "f.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["f.bin"]
    assert sha256_file(target) == "3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3"
