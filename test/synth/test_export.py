"""Writing generated splits through the formats registry and the rosbag2 writer."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.synth import generate
from crowd_perception.synth.export import available_formats, export

from .conftest import tiny_config


def test_unknown_format_rejected_before_generating(tmp_path):
    with pytest.raises(ValueError, match="unsupported format"):
        export(tiny_config(), 0, tmp_path, ["coco", "nope"], progress=False)
    assert not any(tmp_path.iterdir())


def test_coco_export_reads_back(tmp_path):
    from crowd_perception.formats import read_dataset

    config = tiny_config(frames=2, count=1)
    outputs = export(config, 0, tmp_path, ["coco"], image_ext=".png", progress=False)
    json_files = sorted(outputs["coco"].rglob("*.json"))
    assert json_files
    dataset = read_dataset("coco", json_files[0])
    samples = list(generate(config, 0))
    assert len(dataset) == len(samples)
    # COCO keeps the people with at least one visible pixel.
    expected = sorted(int((s.annotation.persons.visible_fractions > 0).sum()) for s in samples)
    assert sorted(len(item[1].persons) for item in dataset) == expected


def test_bag_formats_need_a_bag_writer(tmp_path):
    assert "bag" not in available_formats() and "bag" in available_formats(bags=True)
    with pytest.raises(ValueError, match="unsupported format"):
        export(tiny_config(), 0, tmp_path, ["bag"], progress=False)


def test_bag_export_and_existing_bag_is_refused(tmp_path):
    from crowd_perception.ros.bag import BagReader, write_synthetic_bag

    config = tiny_config(frames=3, count=1)
    outputs = export(config, 0, tmp_path, ["bag"], progress=False, bag_writer=lambda: write_synthetic_bag)
    with BagReader(outputs["bag"]) as bag:
        frames = list(bag.frames())
    assert len(frames) == 3
    first = next(generate(config, 0))
    np.testing.assert_array_equal(np.asarray(frames[0].image), first.image)
    with pytest.raises(FileExistsError):
        export(config, 0, tmp_path, ["bag"], progress=False, bag_writer=lambda: write_synthetic_bag)
