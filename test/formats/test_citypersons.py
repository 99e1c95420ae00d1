"""CityPersons: round-trip of the JSON, the real ``val_gt.json`` and ``anno_val.mat`` (which must agree), bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crowd_perception.core.boxes import box_area
from crowd_perception.formats import FormatError, image_size, open_writer, read_dataset, read_image
from crowd_perception.formats.citypersons import read_citypersons

VISIBLE_PEOPLE = [0, 1, 2]


def test_round_trip(tmp_path, frames):
    with open_writer("citypersons", tmp_path, split="val") as writer:
        for annotation, image in frames:
            writer.write(annotation, image)
    assert writer.json_path == tmp_path / "val_gt.json"
    dataset = read_dataset("citypersons", writer.json_path, image_root=tmp_path / "leftImg8bit" / "val")
    assert len(dataset) == len(frames)
    for (original, image), item in zip(frames, dataset, strict=True):
        got, expected = item.annotation, original.persons.select(VISIBLE_PEOPLE)
        assert got.image_id == f"seq-a_000000_{original.frame_index:06d}_leftImg8bit"
        assert item.image_path.parent.name == "seq-a"
        np.testing.assert_array_equal(read_image(item.image_path), image)  # PNG by default, as Cityscapes
        np.testing.assert_allclose(got.persons.boxes, expected.boxes, atol=0.01)
        np.testing.assert_allclose(got.persons.visible_boxes, expected.visible_boxes, atol=0.01)
        np.testing.assert_array_equal(got.persons.ids, expected.ids)
        ratio = np.minimum(box_area(expected.visible_boxes) / box_area(expected.boxes), 1.0)
        np.testing.assert_allclose(got.persons.visible_fractions, ratio, atol=2e-3)
        np.testing.assert_allclose(got.ignore_regions, original.ignore_regions, atol=0.01)
        assert item.meta["iscrowd"].tolist() == [True]
    raw = json.loads(writer.json_path.read_text())
    assert {c["id"] for c in raw["categories"]} == {0, 1, 2, 3, 4, 5}
    person = raw["annotations"][0]
    assert person["height"] == person["bbox"][3] and 0 < person["vis_ratio"] <= 1


def test_reads_real_val_json(fixtures_dir):
    dataset = read_citypersons(fixtures_dir / "citypersons/val_gt.json")
    assert len(dataset) == 500
    items = list(dataset)
    assert sum(len(i.annotation.persons) for i in items) == 3157
    assert sum(len(i.annotation.ignore_regions) for i in items) == 2638
    assert sum(len(i.annotation.persons) + len(i.annotation.ignore_regions) == 0 for i in items) == 13
    first = items[0]
    ann = first.annotation
    assert ann.image_id == "frankfurt_000000_000294_leftImg8bit" and (ann.width, ann.height) == (2048, 1024)
    assert len(ann.persons) == 4 and len(ann.ignore_regions) == 8
    np.testing.assert_array_equal(ann.persons.boxes[0], [947, 406, 964, 446])
    np.testing.assert_array_equal(ann.persons.visible_boxes[0], [950, 407, 964, 446])
    assert ann.persons.visible_fractions[0] == pytest.approx(0.802941176471)
    assert first.image_path.parts[-2:] == ("frankfurt", "frankfurt_000000_000294_leftImg8bit.png")


def test_mat_and_json_agree(fixtures_dir):
    from_json = read_citypersons(fixtures_dir / "citypersons/val_gt.json")
    from_mat = read_citypersons(fixtures_dir / "citypersons/anno_val.mat")
    assert len(from_mat) == len(from_json) == 500
    for a, b in zip(from_json, from_mat, strict=True):
        assert a.annotation.image_id == b.annotation.image_id
        np.testing.assert_array_equal(a.annotation.persons.boxes, b.annotation.persons.boxes)
        np.testing.assert_array_equal(a.annotation.persons.visible_boxes, b.annotation.persons.visible_boxes)
        np.testing.assert_allclose(a.annotation.persons.visible_fractions, b.annotation.persons.visible_fractions,
                                   atol=1e-6)
        np.testing.assert_array_equal(a.annotation.ignore_regions, b.annotation.ignore_regions)
        np.testing.assert_array_equal(a.meta["iscrowd"], b.meta["iscrowd"])


def test_finds_the_real_thumbnail_image(fixtures_dir):
    folder = fixtures_dir / "citypersons"
    item = read_citypersons(folder / "val_gt.json", image_root=folder / "mmseg_thumbnail")[0]
    assert item.image_path.is_file()  # flat folder: found without the city subfolder
    assert image_size(item.image_path) == (256, 128)  # 1/8 of the annotated 2048x1024
    assert read_image(item.image_path).shape == (128, 256, 3)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("annotations"), "missing list 'annotations'"),
        (lambda d: d["annotations"][0].pop("vis_bbox"), r"vis_bbox must be \[x, y, w, h\]"),
        (lambda d: d["annotations"][0].update(image_id=9), "unknown image"),
        (lambda d: d["images"][0].pop("im_name"), "image entry needs"),
    ],
)
def test_malformed_json(tmp_path, edit, message):
    data = {
        "images": [{"id": 1, "im_name": "x_000000_000001_leftImg8bit.png", "height": 10, "width": 10}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "ignore": 0, "bbox": [0, 0, 2, 4],
                         "vis_bbox": [0, 0, 2, 4]}],
    }
    edit(data)
    path = tmp_path / "val_gt.json"
    path.write_text(json.dumps(data))
    with pytest.raises(FormatError, match=message):
        read_citypersons(path)


def test_malformed_mat(tmp_path):
    import scipy.io

    path = tmp_path / "anno_val.mat"
    path.write_bytes(b"MATLAB? no")
    with pytest.raises(FormatError, match="MATLAB"):
        read_citypersons(path)
    scipy.io.savemat(path, {"something": np.zeros(3)})
    with pytest.raises(FormatError, match="expected one 'anno_\\*' variable"):
        read_citypersons(path)
    cell = np.empty((1, 1), dtype=object)
    cell[0, 0] = {"cityname": "x", "im_name": "x_000000_000001_leftImg8bit.png", "bbs": np.zeros((2, 9))}
    scipy.io.savemat(path, {"anno_val_aligned": cell})
    with pytest.raises(FormatError, match="bbs rows must have 10 values"):
        read_citypersons(path)
