"""CrowdHuman ``.odgt``: round-trip, the real record, head boxes from joints, bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crowd_perception.core.annotations import PersonAnnotations
from crowd_perception.core.boxes import box_area
from crowd_perception.formats import FormatError, open_writer, read_dataset, read_image
from crowd_perception.formats.convert import head_boxes
from crowd_perception.formats.crowdhuman import read_crowdhuman

from .conftest import make_frame, make_image

VISIBLE_PEOPLE = [0, 1, 2]


def test_round_trip(tmp_path, frames):
    with open_writer("crowdhuman", tmp_path, split="val", image_ext=".png") as writer:
        for annotation, image in frames:
            writer.write(annotation, image)
    dataset = read_dataset("crowdhuman", writer.odgt_path)
    assert len(dataset) == len(frames)
    for (original, image), item in zip(frames, dataset, strict=True):
        got, expected = item.annotation, original.persons.select(VISIBLE_PEOPLE)
        assert (got.width, got.height) == (160, 120)  # from the PNG header
        np.testing.assert_allclose(got.persons.boxes, expected.boxes, atol=0.01)  # fbox is not clipped
        np.testing.assert_allclose(got.persons.visible_boxes, expected.visible_boxes, atol=0.01)
        np.testing.assert_array_equal(got.persons.ids, expected.ids)
        np.testing.assert_allclose(got.ignore_regions, original.ignore_regions, atol=0.01)
        np.testing.assert_allclose(item.meta["head_boxes"], head_boxes(expected), atol=0.01)
        np.testing.assert_allclose(
            got.persons.visible_fractions,
            np.minimum(box_area(expected.visible_boxes) / box_area(expected.boxes), 1.0),
            atol=2e-3,
        )
        # person 2 is cut by the image border (not occluded); persons 0 and 1 are whole
        assert item.meta["occluded"].tolist() == [False, False, False]
        np.testing.assert_array_equal(read_image(item.image_path), image)


def test_occlusion_flag_follows_visible_part_of_in_image_box(tmp_path):
    frame = make_frame(0)
    frame.persons.visible_boxes[1, 3] = frame.persons.visible_boxes[1, 1] + 10  # only the head shows
    with open_writer("crowdhuman", tmp_path) as writer:
        writer.write(frame, make_image(0))
    record = json.loads(writer.odgt_path.read_text())
    assert [b["extra"]["occ"] for b in record["gtboxes"] if b["tag"] == "person"] == [0, 1, 0]
    assert record["gtboxes"][-1] == {
        "tag": "mask", "fbox": [120.0, 5.0, 30.0, 25.0], "vbox": [120.0, 5.0, 30.0, 25.0],
        "hbox": [120.0, 5.0, 30.0, 25.0], "head_attr": {}, "extra": {"ignore": 1},
    }


def test_head_box_covers_head_joints_and_excludes_shoulders():
    persons = make_frame(0).persons
    boxes = head_boxes(persons)
    kp = persons.keypoints
    for joint in (4, 5, 6, 7, 8, 9):  # head_top, nose, eyes, ears
        inside = (kp[:, joint, 0] >= boxes[:, 0]) & (kp[:, joint, 0] <= boxes[:, 2])
        inside &= (kp[:, joint, 1] >= boxes[:, 1]) & (kp[:, joint, 1] <= boxes[:, 3])
        assert inside.all()
    assert (kp[:, 10, 1] > boxes[:, 3]).all()  # left shoulder below the head box
    no_head = PersonAnnotations("coco17", np.zeros((1, 4)))
    assert np.isnan(head_boxes(no_head)).all()


def test_reads_real_record(fixtures_dir):
    folder = fixtures_dir / "crowdhuman"
    dataset = read_crowdhuman(folder / "test_annotation_train.odgt", sizes=folder / "id_hw_train.json")
    assert len(dataset) == 1
    item = dataset[0]
    ann = item.annotation
    assert ann.image_id == "283554,35288000868e92d4" and (ann.width, ann.height) == (2048, 1356)
    assert item.image_path.name == "283554,35288000868e92d4.jpg"
    assert len(ann.persons) == 6 and len(ann.ignore_regions) == 1
    np.testing.assert_array_equal(ann.persons.boxes[0], [1330, 317, 1748, 1655])
    np.testing.assert_array_equal(ann.persons.visible_boxes[0], [1355, 323, 1736, 1356])
    np.testing.assert_array_equal(item.meta["head_boxes"][0], [1482, 380, 1636, 558])
    np.testing.assert_array_equal(ann.ignore_regions[0], [1387, 353, 1707, 638])
    assert item.meta["occluded"].tolist() == [True, False, True, False, True, False]
    assert ann.persons.visible_fractions[3] == 1.0  # fbox == vbox
    without_sizes = read_crowdhuman(folder / "test_annotation_train.odgt")[0].annotation
    assert (without_sizes.width, without_sizes.height) == (0, 0)  # no image, no size file: unknown


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"ID": "a", "gtboxes": [', r"bad.odgt:2: not valid JSON"),
        ('{"gtboxes": []}', "needs a string 'ID'"),
        ('{"ID": "a"}', "needs a 'gtboxes' list"),
        ('{"ID": "a", "gtboxes": [{"tag": "car", "fbox": [0, 0, 1, 1], "vbox": [0, 0, 1, 1]}]}', "unknown tag 'car'"),
        ('{"ID": "a", "gtboxes": [{"tag": "person", "fbox": [0, 0, 1], "vbox": [0, 0, 1, 1]}]}', "fbox must be"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.odgt"
    path.write_text('{"ID": "ok", "gtboxes": []}\n' + line + "\n")
    with pytest.raises(FormatError, match=message):
        read_crowdhuman(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_crowdhuman(tmp_path / "absent.odgt")
