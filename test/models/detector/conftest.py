"""Tiny detector fixtures: a minimal config and a small CrowdHuman-format dataset of drawn people."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations


def draw_frame(
    rng: np.random.Generator, index: int, width: int = 96, height: int = 64
) -> tuple[np.ndarray, FrameAnnotation]:
    """A grey image with 1-3 bright upright rectangles ("people") and their boxes and ids."""
    image = np.full((height, width, 3), 60, dtype=np.uint8)
    boxes, ids = [], []
    for k in range(int(rng.integers(1, 4))):
        h = int(rng.integers(20, 40))
        w = max(6, int(h * 0.4))
        x = int(rng.integers(0, width - w))
        y = int(rng.integers(0, height - h))
        image[y : y + h, x : x + w] = (40 + 60 * k, 200, 255 - 50 * k)
        boxes.append([x, y, x + w, y + h])
        ids.append(k)
    persons = PersonAnnotations(
        "body22",
        np.array(boxes, dtype=np.float32),
        visible_boxes=np.array(boxes),
        ids=np.array(ids),
        visible_fractions=np.ones(len(boxes)),
    )
    return image, FrameAnnotation(f"img{index:03d}", width, height, persons, sequence="toy_seq_000")


@pytest.fixture
def draw():
    """:func:`draw_frame`, for tests that need their own drawn images."""
    return draw_frame


@pytest.fixture(scope="session")
def toy_odgt(tmp_path_factory) -> Path:
    """``annotation_train.odgt`` + images of 8 drawn frames (identities in ``extra.track_id``)."""
    from crowd_perception.formats import open_writer

    out = tmp_path_factory.mktemp("toy_crowdhuman")
    rng = np.random.default_rng(0)
    with open_writer("crowdhuman", out, split="train") as writer:
        for i in range(8):
            image, ann = draw_frame(rng, i)
            writer.write(ann, image)
    return out / "annotation_train.odgt"
