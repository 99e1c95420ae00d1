"""MOTChallenge reading (real TUD ground truth) and writing (round trips)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from crowd_perception.core.types import Tracks, TrackState
from crowd_perception.formats.dataset import FormatError
from crowd_perception.formats.mot import (
    MotWriter,
    ResultsWriter,
    SeqInfo,
    read_mot,
    read_mot_rows,
    read_seqinfo,
    write_seqinfo,
)

from .conftest import make_frame


def test_read_real_mot15_ground_truth(fixtures_dir):
    root = fixtures_dir / "mot15_tud_gt"
    dataset = read_mot(root)
    groups = dataset.groups()
    assert sorted(groups) == ["TUD-Campus", "TUD-Stadtmitte"]
    assert len(groups["TUD-Campus"]) == 71 and len(groups["TUD-Stadtmitte"]) == 179
    assert sum(len(item.annotation.persons) for item in dataset) == 359 + 1156
    first = dataset[groups["TUD-Campus"][0]]
    # first row: 1,1,399,182,121,229,1,-1,-1,-1
    np.testing.assert_allclose(first.annotation.persons.boxes[0], [399, 182, 520, 411])
    assert first.annotation.persons.ids[0] == 1
    assert first.annotation.sequence == "TUD-Campus" and first.annotation.frame_index == 0
    assert first.image_path.name == "000001.jpg"
    # MOT15 has world coordinates, not classes: nothing is read as a class or a visibility
    rows = read_mot_rows(root / "TUD-Stadtmitte" / "gt" / "gt.txt")
    assert np.all(rows.classes == -1) and np.all(rows.visibility == -1)
    info = read_seqinfo(root / "TUD-Campus" / "seqinfo.ini")  # only name and seqLength in the file
    assert info == SeqInfo("TUD-Campus", 71)


def test_seq_length_longer_than_the_rows_gives_empty_frames(fixtures_dir, tmp_path):
    seq = tmp_path / "TUD-Campus"
    shutil.copytree(fixtures_dir / "mot15_tud_gt" / "TUD-Campus", seq)
    write_seqinfo(seq / "seqinfo.ini", SeqInfo("TUD-Campus", 80, frame_rate=25.0))
    dataset = read_mot(seq)
    assert len(dataset) == 80
    assert len(dataset[70].annotation.persons) > 0
    assert all(len(dataset[i].annotation.persons) == 0 for i in range(71, 80))
    assert dataset[25].annotation.stamp_ns == 1_000_000_000


def test_rows_beyond_seq_length_are_an_error(fixtures_dir, tmp_path):
    seq = tmp_path / "TUD-Campus"
    shutil.copytree(fixtures_dir / "mot15_tud_gt" / "TUD-Campus", seq)
    write_seqinfo(seq / "seqinfo.ini", SeqInfo("TUD-Campus", 50))
    with pytest.raises(FormatError, match="beyond seqLength"):
        read_mot(seq)


def test_bad_files_are_clear_errors(tmp_path):
    bad = tmp_path / "gt.txt"
    bad.write_text("1,2,3,4\n")
    with pytest.raises(FormatError, match=r"gt\.txt:1: 4 columns, expected at least 6"):
        read_mot_rows(bad)
    bad.write_text("1,2,3,4,5,x\n")
    with pytest.raises(FormatError, match=r"gt\.txt:1: 'x' is not a number"):
        read_mot_rows(bad)
    (tmp_path / "seqinfo.ini").write_text("[Sequence]\nname=a\n")
    with pytest.raises(FormatError, match="seqinfo"):
        read_seqinfo(tmp_path / "seqinfo.ini")
    with pytest.raises(FileNotFoundError):
        read_mot(tmp_path / "missing")


def test_writer_round_trip_with_images(tmp_path):
    frames = [make_frame(seed=i, frame_index=i, hidden_person=i == 1) for i in range(3)]
    with MotWriter(tmp_path, split="train", fps=10.0, ignore_below_visibility=0.05) as writer:
        for a in frames:
            writer.write(a, np.zeros((a.height, a.width, 3), np.uint8))
    seq = tmp_path / "train" / "seq_a"
    assert sorted(p.name for p in (seq / "img1").iterdir()) == ["000001.jpg", "000002.jpg", "000003.jpg"]
    info = read_seqinfo(seq / "seqinfo.ini")
    assert info == SeqInfo("seq_a", 3, 10.0, frames[0].width, frames[0].height, "img1", ".jpg")
    dataset = read_mot(seq)
    for a, item in zip(frames, dataset, strict=True):
        visible = ~(a.persons.visible_fractions < 0.05)  # barely visible people become distractors (class 8)
        np.testing.assert_allclose(item.annotation.persons.boxes, a.persons.boxes[visible], atol=0.01)
        np.testing.assert_array_equal(item.annotation.persons.ids, a.persons.ids[visible])
        np.testing.assert_allclose(
            item.annotation.persons.visible_fractions, a.persons.visible_fractions[visible], atol=1e-3
        )
        assert item.annotation.stamp_ns == round(a.frame_index * 1e8)
        assert item.meta["ignored"] == int((~visible).sum())
    rows = read_mot_rows(seq / "gt" / "gt.txt")
    assert set(rows.classes.tolist()) <= {1, 8} and np.all(rows.confidences == 1)


def test_writer_needs_known_ids(tmp_path):
    a = make_frame(seed=0)
    a.persons.ids[:] = -1
    writer = MotWriter(tmp_path)
    with pytest.raises(ValueError, match="ids"):
        writer.add_annotation(a)


def test_results_writer_keeps_confirmed_tracks_only(tmp_path):
    path = tmp_path / "seq.txt"
    tracks = Tracks(
        ids=[1, 2, 3],
        states=[TrackState.CONFIRMED, TrackState.TENTATIVE, TrackState.LOST],
        boxes=[[10, 20, 50, 120], [0, 0, 5, 5], [1, 1, 2, 2]],
        scores=[0.8, 0.9, 0.7],
    )
    with ResultsWriter(path) as writer:
        writer.add(1, tracks)
        writer.add(2, Tracks.empty())
        writer.add(3, tracks)
    assert path.read_text().splitlines() == [
        "1,1,10.00,20.00,40.00,100.00,0.8000,-1,-1,-1",
        "3,1,10.00,20.00,40.00,100.00,0.8000,-1,-1,-1",
    ]
    rows = read_mot_rows(path)
    np.testing.assert_allclose(rows.boxes, [[10, 20, 50, 120]] * 2)


@pytest.mark.parametrize(("line", "message"), [
    ("2,1,10,20,nan,40,0.9,-1,-1,-1", "non-finite value"),
    ("2,1,10,20,inf,40,0.9,-1,-1,-1", "non-finite value"),
    ("2,1,10,20,-5,40,0.9,-1,-1,-1", "negative box size"),
    ("2,1,10,20,30,-40,0.9,-1,-1,-1", "negative box size"),
    ("2,1,10,20,30", "5 columns, expected at least 6"),
    ("2,1,10,20,30,40,0.9", "7 columns, the rows above have 10"),
    ("2.5,1,10,20,30,40,0.9,-1,-1,-1", "frame number 2.5 is not an integer >= 1"),
])
def test_faulty_result_rows_are_rejected_with_file_and_line(tmp_path, line, message):
    path = tmp_path / "seq.txt"
    path.write_text("1,1,10,20,30,40,0.9,-1,-1,-1\n\n" + line + "\n")
    with pytest.raises(FormatError) as info:
        read_mot_rows(path)
    assert str(info.value).startswith(f"{path}:3: ") and message in str(info.value)


def test_frames_present_count_and_seq_length_only_bounds_them(fixtures_dir, tmp_path, caplog):
    seq = tmp_path / "TUD-Campus"
    shutil.copytree(fixtures_dir / "mot15_tud_gt" / "TUD-Campus", seq)  # seqLength 71
    (seq / "img1").mkdir()
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    import cv2

    for frame in (1, 2, 3, 4, 80):  # a trimmed sequence, and one image past seqLength
        cv2.imwrite(str(seq / "img1" / f"{frame:06d}.jpg"), image)
    with caplog.at_level("WARNING"):
        dataset = read_mot(seq)
    assert [item.annotation.frame_index for item in dataset] == [0, 1, 2, 3]
    assert all(item.image_path.is_file() for item in dataset)  # nothing refers to a missing image
    assert len(dataset[0].annotation.persons) > 0
    assert "4 of 71 frames present" in caplog.text
