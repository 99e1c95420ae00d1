"""Weighted mixtures of datasets: parsing, per-weight shares whatever the part sizes, distinct identities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crowd_perception.formats import FormatError, read_dataset
from crowd_perception.formats.mixture import MixedDataset, SourceSpec, parse_sources


def test_parse_sources() -> None:
    assert parse_sources("synth:train_a@0.7, coco:/d/c.json") == [
        SourceSpec("synth", "train_a", 0.7),
        SourceSpec("coco", "/d/c.json", 1.0),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no data source"),
        ("coco", "source:where"),
        ("coco:/x@heavy", "not a number"),
        ("coco:/x@0", "positive"),
        ("coco:/x@nan", "positive"),
    ],
)
def test_parse_sources_errors_name_the_entry(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse_sources(text)


def _real_parts(fixtures_dir: Path):
    coco = read_dataset("coco", fixtures_dir / "coco_keypoints/coco/test_coco.json")
    crowdpose = read_dataset("crowdpose", fixtures_dir / "crowdpose/crowdpose/test_crowdpose.json")
    return coco, crowdpose


def test_shares_follow_weights_not_sizes(fixtures_dir: Path) -> None:
    """4 COCO images vs 2 CrowdPose images, weighted 1:3 over a 400-image epoch: 100 vs 300 draws."""
    coco, crowdpose = _real_parts(fixtures_dir)
    mixed = MixedDataset([coco, crowdpose], [1.0, 3.0], length=400, seed=0)
    parts = np.array([mixed.part_of(i) for i in range(len(mixed))])
    assert len(mixed) == 400 and (parts == 0).sum() == 100 and (parts == 1).sum() == 300
    image, ann = mixed.load(int(np.flatnonzero(parts == 1)[0]))
    assert image.ndim == 3 and image.shape[:2] == (ann.height, ann.width) and len(ann.persons) > 0


def test_small_weights_still_get_an_image_and_default_length(fixtures_dir: Path) -> None:
    coco, crowdpose = _real_parts(fixtures_dir)
    mixed = MixedDataset([coco, crowdpose], [1000.0, 1e-6])
    assert len(mixed) == len(coco) + len(crowdpose) + 1  # rounded shares; the light part keeps one draw
    assert {mixed.part_of(i) for i in range(len(mixed))} == {0, 1}


def _identified_set(out: Path):
    """Three CrowdHuman-format frames whose two people carry identities 0 and 1 (and one unknown, -1)."""
    from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations
    from crowd_perception.formats import open_writer

    with open_writer("crowdhuman", out, split="train") as writer:
        for i in range(3):
            boxes = np.array([[10, 10, 30, 60], [40, 10, 60, 60], [70, 10, 90, 60]], dtype=np.float32)
            persons = PersonAnnotations(
                "body22", boxes, visible_boxes=boxes, ids=np.array([0, 1, -1]), visible_fractions=np.ones(3)
            )
            writer.write(FrameAnnotation(f"f{i}", 100, 80, persons), np.zeros((80, 100, 3), np.uint8))
    return read_dataset("crowdhuman", out / "annotation_train.odgt")


def test_identities_are_offset_per_part(tmp_path: Path) -> None:
    """Identity ids of the second part start after the first part's classes; unknown (-1) stays -1."""
    part = _identified_set(tmp_path)
    mixed = MixedDataset([part, part], [1.0, 1.0], identity_counts=[2, 2], length=12, seed=1)
    assert mixed.num_identities == 4
    seen = {0: set(), 1: set()}
    for i in range(len(mixed)):
        _, ann = mixed.load(i)
        seen[mixed.part_of(i)].update(int(v) for v in ann.persons.ids)
    assert seen == {0: {0, 1, -1}, 1: {2, 3, -1}}


def test_empty_part_is_refused(fixtures_dir: Path) -> None:
    coco, _ = _real_parts(fixtures_dir)
    with pytest.raises(FormatError, match="no images"):
        MixedDataset([coco, coco.subset([])], [1.0, 1.0])


def test_interleave_follows_the_weights_and_restarts_a_short_part() -> None:
    """3:1 over 40 draws: 30 and 10 whatever the part sizes; the 4-item part starts over."""
    from itertools import islice

    from crowd_perception.formats.mixture import interleave

    parts = {"long": [f"l{i}" for i in range(100)], "short": ["s0", "s1", "s2", "s3"]}
    specs = parse_sources("list:long@3,list:short@1")
    drawn = list(islice(interleave(specs, lambda spec: parts[spec.where]), 40))
    assert sum(d.startswith("l") for d in drawn) == 30
    assert [d for d in drawn if d.startswith("s")] == parts["short"] * 2 + parts["short"][:2]


def test_interleave_refuses_an_empty_part() -> None:
    from crowd_perception.formats.mixture import interleave

    specs = parse_sources("list:full@1,list:empty@1")
    with pytest.raises(FormatError, match="'list:empty' has no images"):
        list(interleave(specs, lambda spec: [1, 2] if spec.where == "full" else []))
