"""``train pose3d --data``: synthetic and JTA parts drawn by their weights; sources without 3D joints refused."""

import itertools

import pytest

from crowd_perception.cli import build_parser, main
from crowd_perception.formats import FormatError, open_writer
from crowd_perception.formats.mixture import SourceSpec
from crowd_perception.models.pose3d.cli import COMMANDS
from crowd_perception.models.pose3d.config import DataConfig
from crowd_perception.models.pose3d.data import frames

from .conftest import make_frame


def test_mixture_parses_into_its_parts():
    args = build_parser(COMMANDS).parse_args(["train", "pose3d", "--data", "synth:train_a@0.8,jta:/data/JTA@0.2"])
    assert DataConfig(mix=args.data).sources() == [SourceSpec("synth", "train_a", 0.8), SourceSpec("jta", "/data/JTA", 0.2)]


def test_parts_are_drawn_by_weight_and_a_short_part_starts_over(tmp_path):
    """20 frames at 0.8 / 0.2: 16 rendered (640x360) and 4 from a 3-frame JTA folder (128x96), which repeats."""
    with open_writer("jta", tmp_path, split="train") as writer:
        for i in range(3):
            image, ann = make_frame(2, seed=i)
            ann.sequence, ann.frame_index = "seq_0", i
            ann.persons.ids[:] = [1, 2]
            writer.write(ann, image)
    data = DataConfig(mix=f"synth:train_a@0.8,jta:{tmp_path}@0.2", min_height_px=4)
    sizes = [image.shape[:2] for image, _ in itertools.islice(frames(data, "train"), 20)]
    assert sizes.count((96, 128)) == 4 and sizes.count((360, 640)) == 16
    jta_ids = [ann.image_id for image, ann in itertools.islice(frames(data, "train"), 20) if image.shape[0] == 96]
    assert len(set(jta_ids)) == 3


@pytest.mark.parametrize("source", ["coco:/d/person_keypoints.json", "crowdhuman:/d/annotation_train.odgt"])
def test_a_source_without_3d_joints_is_refused(source):
    with pytest.raises(FormatError, match=f"'{source}' has no 3D joints"):
        DataConfig(mix=f"synth:train_a@0.8,{source}@0.2")


def test_the_command_refuses_it_in_one_line(tmp_path, capsys):
    code = main(["train", "pose3d", "--data", "synth:train_a@0.8,coco:/d/c.json@0.2", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("error: data source 'coco:/d/c.json' has no 3D joints")
