"""Dataset plumbing: lazy indexing, sub-datasets, sequence groups, image headers, writer safety."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from crowd_perception.formats import FormatError, image_size, open_writer, read_image
from crowd_perception.formats.dataset import AnnotatedDataset, LabelledImage, safe_name

from .conftest import make_frame


def _counting_dataset() -> tuple[AnnotatedDataset, list[int]]:
    decoded: list[int] = []

    def decode(record: int) -> LabelledImage:
        decoded.append(record)
        return LabelledImage(f"{record}.jpg", make_frame(0), {"record": record})

    return AnnotatedDataset("toy", list(range(6)), decode, group=lambda r: r // 4), decoded


def test_items_are_decoded_only_on_access():
    dataset, decoded = _counting_dataset()
    assert len(dataset) == 6 and decoded == []
    assert dataset[-1].meta["record"] == 5 and decoded == [5]
    sub = dataset[1:4]
    assert len(sub) == 3 and [item.meta["record"] for item in sub] == [1, 2, 3]
    assert [item.meta["record"] for item in dataset.subset(np.array([5, 0]))] == [5, 0]
    assert dataset.groups() == {0: [0, 1, 2, 3], 1: [4, 5]}
    with pytest.raises(IndexError, match="out of range"):
        dataset[6]


def test_image_size_reads_headers(tmp_path):
    image = np.zeros((37, 91, 3), np.uint8)
    for ext in (".png", ".jpg", ".bmp"):
        cv2.imwrite(str(tmp_path / f"a{ext}"), image)
        assert image_size(tmp_path / f"a{ext}") == (91, 37)


def test_read_image_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path / "absent.jpg")
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(FormatError, match="cannot decode"):
        read_image(tmp_path / "broken.jpg")
    grey = np.full((4, 5), 7, np.uint8)
    cv2.imwrite(str(tmp_path / "grey.png"), grey)
    assert read_image(tmp_path / "grey.png").shape == (4, 5, 3)


def test_safe_name():
    assert safe_name("seq_a/000001") == "seq_a_000001"
    assert safe_name("283554,35288000868e92d4") == "283554_35288000868e92d4"
    with pytest.raises(ValueError):
        safe_name("//")


def test_writer_keeps_what_was_written_when_generation_fails(tmp_path, frames):
    with pytest.raises(RuntimeError, match="generator crashed"), open_writer("coco", tmp_path) as writer:
        writer.write(*frames[0])
        raise RuntimeError("generator crashed")
    data = json.loads(writer.json_path.read_text())
    assert len(data["images"]) == 1
    with pytest.raises(ValueError, match="image_ext"):
        open_writer("coco", tmp_path, image_ext=".gif")
