"""COCO keypoints JSON: round-trip of our ground truth, the real COCO / CrowdPose / OCHuman samples, bad files."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from crowd_perception.core.boxes import clip_boxes
from crowd_perception.core.skeletons import get_skeleton
from crowd_perception.core.types import JointState
from crowd_perception.formats import FormatError, open_writer, read_dataset, read_image
from crowd_perception.formats.coco import decode_segmentation, encode_rle, instance_rles, read_coco
from crowd_perception.formats.convert import coco_flags, convert_persons
from crowd_perception.formats.dataset import safe_name

from .conftest import make_frame, make_image

# pycocotools' Cython RLE objects trigger numpy 2's __array__(copy=...) deprecation notice
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools.*")

VISIBLE_PEOPLE = [0, 1, 2]  # make_frame's person 3 has no visible pixel


def _write(tmp_path, name, frames, **kw):
    with open_writer(name, tmp_path, split="val", image_ext=".png", **kw) as writer:
        for annotation, image in frames:
            writer.write(annotation, image)
    return writer


@pytest.mark.parametrize(("name", "skeleton"), [("coco", "coco17"), ("crowdpose", "crowdpose14")])
def test_round_trip(tmp_path, frames, name, skeleton):
    writer = _write(tmp_path, name, frames)
    dataset = read_dataset(name, writer.json_path, masks=True)
    assert len(dataset) == len(frames)
    for (original, image), item in zip(frames, dataset, strict=True):
        got = item.annotation
        expected = convert_persons(original.persons.select(VISIBLE_PEOPLE), skeleton)
        assert got.persons.skeleton == skeleton
        assert got.image_id == safe_name(original.image_id)
        np.testing.assert_allclose(got.persons.boxes, clip_boxes(expected.boxes, 160, 120), atol=1e-3)
        np.testing.assert_allclose(got.persons.visible_boxes, expected.visible_boxes, atol=1e-3)
        np.testing.assert_array_equal(got.persons.ids, expected.ids)
        labelled = coco_flags(expected.keypoints, expected.keypoint_states, 160, 120) > 0
        assert labelled.any() and not labelled.all()  # the border person has joints outside the image
        np.testing.assert_allclose(got.persons.keypoints[labelled], expected.keypoints[labelled], atol=1e-3)
        assert np.isnan(got.persons.keypoints[~labelled]).all()
        visible = expected.keypoint_states == JointState.VISIBLE
        want_states = np.where(labelled, np.where(visible, JointState.VISIBLE, JointState.OCCLUDED), JointState.UNKNOWN)
        np.testing.assert_array_equal(got.persons.keypoint_states, want_states)
        relabel = np.zeros(5, dtype=np.int32)
        relabel[np.array(VISIBLE_PEOPLE) + 1] = np.arange(1, 4)
        np.testing.assert_array_equal(got.instance_map, relabel[original.instance_map])
        np.testing.assert_allclose(got.ignore_regions, original.ignore_regions, atol=1e-3)
        assert got.camera == original.camera
        assert (got.sequence, got.frame_index, got.stamp_ns, got.domain) == (
            original.sequence, original.frame_index, original.stamp_ns, original.domain)
        np.testing.assert_array_equal(read_image(item.image_path), image)
    first_image, first_annotation = next(dataset.samples())
    np.testing.assert_array_equal(first_image, frames[0][1])
    assert first_annotation.image_id == safe_name(frames[0][0].image_id)


@pytest.mark.parametrize("name", ["coco", "crowdpose"])
def test_written_json_is_consistent_and_scores_perfectly_with_pycocotools(tmp_path, frames, name):
    writer = _write(tmp_path, name, frames)
    data = json.loads(writer.json_path.read_text())
    skeleton = get_skeleton("coco17" if name == "coco" else "crowdpose14")
    assert len(data["categories"][0]["keypoints"]) == skeleton.num_joints
    if name == "crowdpose":
        assert data["categories"][0]["keypoints"][-2:] == ["head", "neck"]  # CrowdPose's own names
    people = [a for a in data["annotations"] if not a["iscrowd"]]
    crowds = [a for a in data["annotations"] if a["iscrowd"]]
    assert len(people) == 3 * len(frames) and len(crowds) == len(frames)
    for ann in people:
        flags = ann["keypoints"][2::3]
        assert ann["num_keypoints"] == sum(v > 0 for v in flags)
        assert ann["area"] == int(mask_utils.decode(ann["segmentation"]).sum()) > 0
    for ann in crowds:
        assert ann["num_keypoints"] == 0 and mask_utils.area(mask_utils.frPyObjects(ann["segmentation"], 120, 160)) == 750

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(writer.json_path))
        dets = gt.loadRes([{"image_id": a["image_id"], "category_id": 1, "keypoints": a["keypoints"], "score": 1.0}
                           for a in people if a["num_keypoints"] > 0])
        evaluation = COCOeval(gt, dets, "keypoints")
        evaluation.params.kpt_oks_sigmas = np.array(skeleton.sigmas)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    assert evaluation.stats[0] == pytest.approx(1.0)


def test_writer_without_masks_uses_box_area_and_skips_invisible_people(tmp_path):
    frame = make_frame(3)
    frame.instance_map = None
    writer = _write(tmp_path, "coco", [(frame, make_image(3))])
    people = [a for a in json.loads(writer.json_path.read_text())["annotations"] if not a["iscrowd"]]
    assert len(people) == 3  # the person with visible fraction 0 is left out
    for ann in people:
        assert "segmentation" not in ann
        assert ann["area"] == pytest.approx(ann["bbox"][2] * ann["bbox"][3], rel=1e-3)
    assert read_coco(writer.json_path, masks=True)[0].annotation.instance_map is None  # no masks: unknown, not empty


def test_writer_rejects_bad_input(tmp_path):
    frame, image = make_frame(0), make_image(0)
    with pytest.raises(ValueError, match="skeleton"):
        open_writer("coco", tmp_path, skeleton="body22")
    with open_writer("coco", tmp_path) as writer:
        with pytest.raises(ValueError, match="uint8 BGR image"):
            writer.write(frame, image[:, :, 0])
        writer.write(frame, image)
        with pytest.raises(ValueError, match="same image file"):
            writer.write(frame, image)


@pytest.mark.parametrize("seed", range(4))
def test_rle_encoder_matches_pycocotools(seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((23, 31)) < [0.02, 0.5, 0.98, 0.3][seed]
    mask[:, 5:9] = seed % 2 == 0  # long runs: multi-group and negative differences
    reference = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    assert encode_rle(mask) == {"size": [23, 31], "counts": reference["counts"].decode("ascii")}
    assert encode_rle(np.zeros((0, 4), bool))["counts"] == mask_utils.encode(np.zeros((0, 4), np.uint8, order="F"))[
        "counts"].decode("ascii")


def test_instance_rles_match_per_mask_encoding():
    labels = np.random.default_rng(0).integers(0, 4, (17, 13)).astype(np.int32)
    labels[:, 6:] = 2  # runs that continue from one column into the next
    rles = instance_rles(labels)
    assert sorted(rles) == [1, 2, 3]
    for label, (rle, area) in rles.items():
        assert rle == encode_rle(labels == label) and area == int((labels == label).sum())
    assert instance_rles(np.zeros((3, 4), np.int32)) == {}


# --------------------------------------------------------------------------------------- real samples


def test_reads_real_coco_sample(fixtures_dir):
    dataset = read_dataset("coco", fixtures_dir / "coco_keypoints/coco/test_coco.json", masks=True)
    assert len(dataset) == 4
    assert [len(item.annotation.persons) for item in dataset] == [1, 3, 5, 5]
    item = dataset[0]
    assert item.image_path.is_file() and item.meta["annotation_ids"] == [442619]
    ann = item.annotation
    assert (ann.width, ann.height, ann.persons.skeleton) == (640, 425, "coco17")
    np.testing.assert_allclose(ann.persons.boxes[0], [280.79, 44.73, 280.79 + 218.7, 44.73 + 346.68], atol=1e-3)
    np.testing.assert_array_equal(ann.persons.keypoints[0, 0], [367, 81])
    assert (ann.persons.keypoint_states[0] == JointState.VISIBLE).all()
    # polygon mask rasterised by pycocotools: pixel count within 1 % of the annotated area (27789.1)
    assert abs(int((ann.instance_map == 1).sum()) - 27789.11) / 27789.11 < 0.01
    second = dataset[1].annotation.persons  # annotation 198196: 14 labelled joints, left_hip (11) with v=1
    assert (second.keypoint_states[0] != JointState.UNKNOWN).sum() == 14
    assert second.keypoint_states[0, 11] == JointState.OCCLUDED
    assert np.isnan(second.keypoints[2]).all()  # annotation 1202706: num_keypoints 0
    np.testing.assert_array_equal(dataset.load(0)[0].shape, (425, 640, 3))


def test_reads_real_crowdpose_sample(fixtures_dir):
    dataset = read_dataset("crowdpose", fixtures_dir / "crowdpose/crowdpose/test_crowdpose.json")
    assert len(dataset) == 2
    assert [len(item.annotation.persons) for item in dataset] == [3, 2]
    item = dataset[0]
    assert item.image_path.is_file() and item.meta["image"]["crowdIndex"] == 0.33
    persons = item.annotation.persons
    assert persons.skeleton == "crowdpose14" and item.annotation.instance_map is None
    head = get_skeleton("crowdpose14").index("head_top")
    np.testing.assert_array_equal(persons.keypoints[0, head], [256, 27])
    assert persons.keypoint_states[0, head] == JointState.OCCLUDED  # v = 1
    assert (persons.keypoint_states[0] != JointState.UNKNOWN).sum() == 7  # 5 "num_keypoints" + head/neck v=1


def test_reads_real_ochuman_sample_with_rle_masks(fixtures_dir):
    path = fixtures_dir / "ochuman/ochuman/test_ochuman.json"
    dataset = read_dataset("ochuman", path, masks=True)
    assert [len(item.annotation.persons) for item in dataset] == [1, 2, 2]
    raw = json.loads(path.read_text())["annotations"]
    first = dataset[0]
    assert int((first.annotation.instance_map == 1).sum()) == int(mask_utils.decode(raw[0]["segmentation"]).sum())
    # image 2's masks overlap: the instance map splits them, decode_segmentation gives each whole mask
    second = dataset[1]
    whole = [decode_segmentation(s, 1000, 665) for s in second.meta["segmentations"]]
    assert (whole[0] & whole[1]).sum() > 0
    labels = second.annotation.instance_map
    assert ((labels == 1) | (labels == 2)).sum() == (whole[0] | whole[1]).sum()
    np.testing.assert_allclose(first.annotation.persons.keypoints[0, 0], [371.5701271305881, 188.86769422623237],
                               rtol=1e-6)


# --------------------------------------------------------------------------------------- bad files


def _minimal() -> dict:
    return {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "keypoints": [0] * 51}],
        "categories": [{"id": 1, "name": "person", "keypoints": list(get_skeleton("coco17").joints)}],
    }


def _break(data: dict, what: str) -> None:
    if what == "no annotations":
        del data["annotations"]
    elif what == "short keypoints":
        data["annotations"][0]["keypoints"] = [0] * 50
    elif what == "unknown image":
        data["annotations"][0]["image_id"] = 7
    elif what == "bad bbox":
        data["annotations"][0]["bbox"] = [0, 0, 5]
    elif what == "unknown skeleton":
        data["categories"][0]["keypoints"] = ["a", "b"]
    elif what == "image without size":
        del data["images"][0]["width"]


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("no annotations", "missing list 'annotations'"),
        ("short keypoints", "expected 51 keypoint values, got 50"),
        ("unknown image", "unknown image_id 7"),
        ("bad bbox", r"bbox must be \[x, y, w, h\]"),
        ("unknown skeleton", "neither COCO-17 nor CrowdPose-14"),
        ("image without size", "image entry needs"),
    ],
)
def test_malformed_files_raise_clear_errors(tmp_path, what, message):
    data = _minimal()
    _break(data, what)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(FormatError, match=message):
        read_coco(path)


def test_other_categories_are_skipped(tmp_path):
    data = _minimal()
    data["categories"].append({"id": 3, "name": "car"})
    data["annotations"].append({"id": 2, "image_id": 1, "category_id": 3, "bbox": [1, 1, 2, 2]})
    path = tmp_path / "two_categories.json"
    path.write_text(json.dumps(data))
    assert len(read_coco(path)[0].annotation.persons) == 1


def test_not_json_and_missing_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"images": [')
    with pytest.raises(FormatError, match="not valid JSON"):
        read_coco(path)
    with pytest.raises(FileNotFoundError):
        read_coco(tmp_path / "absent.json")


def test_broken_segmentation_is_reported_on_access(tmp_path):
    data = _minimal()
    data["annotations"][0]["segmentation"] = {"size": [3, 3], "counts": "abc"}
    path = tmp_path / "bad_mask.json"
    path.write_text(json.dumps(data))
    dataset = read_coco(path, masks=True)
    with pytest.raises(FormatError, match="RLE size"):
        dataset[0]
