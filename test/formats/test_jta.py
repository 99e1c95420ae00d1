"""JTA per-sequence joint annotations: round-trip of our JTA-like files, a file in the real layout, bad input."""

from __future__ import annotations

import dataclasses
import json
import os

import cv2
import numpy as np
import pytest

from crowd_perception.core.skeletons import JTA22, joint_mapping
from crowd_perception.core.types import JointState
from crowd_perception.formats import FormatError, open_writer, read_dataset, read_image
from crowd_perception.formats.convert import keypoint_boxes
from crowd_perception.formats.jta import JTA_CAMERA, read_jta

from .conftest import make_frame, make_image


def _expected_states(states: np.ndarray) -> np.ndarray:
    """What survives the 10-column rows: the cause of an occlusion does not."""
    out = states.copy()
    out[(states == JointState.OCCLUDED_BY_PERSON) | (states == JointState.OCCLUDED_BY_OBJECT)] = JointState.OCCLUDED
    return out


def test_round_trip_two_sequences(tmp_path, frames):
    other = (make_frame(5, frame_index=0, sequence="seq_b"), make_image(5))
    with open_writer("jta", tmp_path, split="val", fps=10.0, image_ext=".png") as writer:
        for annotation, image in [frames[0], other, frames[1]]:
            writer.write(annotation, image)
    dataset = read_dataset("jta", tmp_path / "annotations", cache_sequences=1)
    assert len(dataset) == 3
    groups = dataset.groups()
    assert [len(g) for g in groups.values()] == [2, 1]
    by_key = {(item.annotation.sequence, item.annotation.frame_index): item for item in dataset}
    for original, image in [*frames, other]:
        item = by_key[(original.sequence, original.frame_index)]
        got, want = item.annotation, original.persons
        assert got.persons.skeleton == "body22" and len(got.persons) == 4  # JTA keeps hidden people too
        np.testing.assert_array_equal(got.persons.ids, want.ids)
        np.testing.assert_allclose(got.persons.keypoints, want.keypoints, atol=1e-3)
        np.testing.assert_allclose(got.persons.joints_3d, want.joints_3d, atol=1e-5)
        np.testing.assert_array_equal(got.persons.keypoint_states, _expected_states(want.keypoint_states))
        np.testing.assert_allclose(got.persons.boxes, keypoint_boxes(want.keypoints), atol=1e-3)
        np.testing.assert_allclose(got.persons.distances, np.linalg.norm(want.joints_3d[:, 0], axis=1), atol=1e-4)
        assert got.camera == original.camera
        assert (got.width, got.height, got.stamp_ns, got.domain) == (160, 120, original.stamp_ns, "a")
        np.testing.assert_array_equal(read_image(item.image_path), image)
    sidecar = json.loads((tmp_path / "annotations/val/seq_a.camera.json").read_text())
    assert sidecar["skeleton"] == "body22" and sidecar["frames"] == [1, 2]


def _real_layout(root, occluded_joint: int = 0) -> np.ndarray:
    """One JTA sequence as the dataset ships it: 10-column rows in JTA-22 order, no sidecar."""
    rng = np.random.default_rng(0)
    rows = []
    for frame in (1, 2):
        for person in (3, 8):
            for joint in range(JTA22.num_joints):
                xyz = np.array([person - 5.0, 1.0, 10.0]) + rng.normal(0, 0.3, 3)
                uv = JTA_CAMERA.project(xyz)
                rows.append([frame, person, joint, *uv, *xyz, int(joint == occluded_joint), int(joint == 5)])
    (root / "annotations/train").mkdir(parents=True)
    (root / "annotations/train/seq_7.json").write_text(json.dumps(rows))
    (root / "frames/train/seq_7").mkdir(parents=True)
    for frame in (1, 2):
        cv2.imwrite(str(root / f"frames/train/seq_7/{frame}.jpg"), np.zeros((8, 8, 3), np.uint8))
    return np.array(rows)


def test_reads_the_real_layout_into_body22(tmp_path):
    rows = _real_layout(tmp_path, occluded_joint=JTA22.index("spine4"))
    dataset = read_jta(tmp_path / "annotations/train/seq_7.json")
    assert len(dataset) == 2
    item = dataset[1]
    ann = item.annotation
    assert item.image_path == tmp_path / "frames/train/seq_7/2.jpg" and item.image_path.is_file()
    assert ann.camera == JTA_CAMERA and (ann.width, ann.height) == (1920, 1080)
    assert (ann.sequence, ann.frame_index, ann.stamp_ns) == ("seq_7", 1, round(1e9 / 30))
    persons = ann.persons
    assert persons.skeleton == "body22" and persons.ids.tolist() == [3, 8]
    mapping = joint_mapping("jta22", "body22")
    frame_rows = rows[(rows[:, 0] == 2) & (rows[:, 1] == 3)]
    known = mapping >= 0
    np.testing.assert_allclose(persons.keypoints[0, known], frame_rows[mapping[known], 3:5], atol=1e-9)
    np.testing.assert_allclose(persons.joints_3d[0, known], frame_rows[mapping[known], 5:8], atol=1e-6)
    assert np.isnan(persons.keypoints[0, ~known]).all()  # JTA has no face points
    assert persons.keypoint_states[0, 0] == JointState.OCCLUDED  # body22 pelvis = JTA spine4
    np.testing.assert_allclose(persons.distances[0], np.linalg.norm(frame_rows[JTA22.index("spine4"), 5:8]), rtol=1e-6)
    raw = read_jta(tmp_path / "annotations", skeleton="jta22")[0].annotation.persons
    assert raw.skeleton == "jta22" and raw.keypoint_states[0, 5] == JointState.SELF_OCCLUDED


def test_npy_cache_is_used_once_written(tmp_path):
    _real_layout(tmp_path)
    annotation_file = tmp_path / "annotations/train/seq_7.json"
    cache = tmp_path / "cache"
    first = read_jta(annotation_file, cache_dir=cache)[1].annotation.persons
    assert (cache / "train_seq_7.npy").is_file()
    old = annotation_file.stat().st_mtime - 10
    annotation_file.write_text("not json any more")
    os.utime(annotation_file, (old, old))  # older than the cache: the cache answers
    again = read_jta(annotation_file, cache_dir=cache)[1].annotation.persons
    np.testing.assert_array_equal(again.keypoints, first.keypoints)
    os.utime(annotation_file)  # newer than the cache: parsed again (and found broken)
    with pytest.raises(FormatError, match="not valid JSON"):
        read_jta(annotation_file, cache_dir=cache)[1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ([[1, 1, 0, 1.0, 1.0, 0.0, 0.0, 1.0, 0]], "rows must have 10 values"),
        ([[1, 1, 22, 1.0, 1.0, 0.0, 0.0, 1.0, 0, 0]], r"joint_type outside 0\.\.21"),
        ({"frame": 1}, "matrix of numbers"),
    ],
)
def test_malformed_sequence_files(tmp_path, content, message):
    path = tmp_path / "seq_1.json"
    path.write_text(json.dumps(content))
    with pytest.raises(FormatError, match=message):
        read_jta(path)[0]


def test_missing_or_empty_inputs(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_jta(tmp_path / "nothing")
    with pytest.raises(FormatError, match="no sequence annotation"):
        read_jta(tmp_path)
    (tmp_path / "seq_1.json").write_text("[]")
    (tmp_path / "seq_1.camera.json").write_text('{"camera": {"fx": 1}, "frames": [1]}')
    with pytest.raises(FormatError, match="malformed sidecar"):
        read_jta(tmp_path)


def test_writer_rejects_frames_it_cannot_express(tmp_path):
    frame, image = make_frame(0), make_image(0)
    with open_writer("jta", tmp_path) as writer:
        with pytest.raises(ValueError, match="camera intrinsics"):
            writer.write(dataclasses.replace(frame, camera=None), image)
        frame.persons.ids[1] = frame.persons.ids[0]
        with pytest.raises(ValueError, match="ids must be known and unique"):
            writer.write(frame, image)
        good = make_frame(1, frame_index=1)
        writer.write(good, make_image(1))
        moved = dataclasses.replace(make_frame(2, frame_index=2), camera=good.camera.scaled(1.0, 1.01))
        with pytest.raises(ValueError, match="changed within sequence"):
            writer.write(moved, make_image(2))
    assert len(read_jta(tmp_path / "annotations")) == 1
