"""The format registry (``crowd_perception.formats``): every writer round-trips through ``read_dataset``."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from crowd_perception.formats import DatasetWriter, open_writer, read_dataset, reader_names, writer_names

# where each writer puts the file that its reader takes
_ANNOTATION_PATH = {
    "coco": lambda w: w.json_path,
    "crowdpose": lambda w: w.json_path,
    "crowdhuman": lambda w: w.odgt_path,
    "citypersons": lambda w: w.json_path,
    "jta": lambda w: w.out_dir / "annotations",
    "mot": lambda w: w.out_dir / w.split,
}


def test_names():
    assert writer_names() == sorted(_ANNOTATION_PATH)
    assert reader_names() == sorted([*_ANNOTATION_PATH, "ochuman"])


@pytest.mark.parametrize("name", sorted(_ANNOTATION_PATH))
def test_every_writer_reads_back_through_the_registry(tmp_path, frames, name):
    with open_writer(name, tmp_path / name, split="val") as writer:
        assert isinstance(writer, DatasetWriter)
        paths = [writer.write(annotation, image) for annotation, image in frames]
    assert writer.count == len(frames) and all(Path(p).is_file() for p in paths)
    dataset = read_dataset(name, _ANNOTATION_PATH[name](writer))
    assert len(dataset) == len(frames)
    assert sorted(item.image_path for item in dataset) == sorted(paths)
    assert all(len(item.annotation.persons) >= 3 for item in dataset)
    # torch DataLoader workers started with "spawn" receive the dataset pickled
    copy = pickle.loads(pickle.dumps(dataset[::-1]))
    np.testing.assert_array_equal(copy[0].annotation.persons.boxes, dataset[-1].annotation.persons.boxes)


def test_unknown_names_and_closed_writers(tmp_path, frames):
    with pytest.raises(ValueError, match="no writer for format 'ochuman'"):
        open_writer("ochuman", tmp_path)
    with pytest.raises(ValueError, match="no reader for format 'kitti'"):
        read_dataset("kitti", tmp_path)
    writer = open_writer("coco", tmp_path)
    writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer.write(*frames[0])
