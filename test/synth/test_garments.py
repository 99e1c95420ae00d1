"""Garment patterns change only the pixels of the pattern's top, never the labels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from crowd_perception.synth import generate
from crowd_perception.synth.body import PART_COLOUR_ROLE, PATTERNS
from crowd_perception.synth.garments import paint_patterns
from crowd_perception.synth.raster import Raster

from .conftest import tiny_config


def _raster(code_map: np.ndarray, n: int, boxes: np.ndarray) -> Raster:
    parts = len(PART_COLOUR_ROLE)
    codes = 1 + n * parts
    code_row = np.full(codes, -1)
    code_row[1:] = np.repeat(np.arange(n), parts)
    code_part = np.full(codes, -1)
    code_part[1:] = np.tile(np.arange(parts), n)
    return Raster(code_map, code_row, code_part, np.zeros(codes, bool), boxes, np.full(n, -1))


def test_stripes_only_on_the_top_of_their_person():
    parts = len(PART_COLOUR_ROLE)
    torso, thigh = PART_COLOUR_ROLE.index("top"), PART_COLOUR_ROLE.index("bottom")
    code_map = np.zeros((100, 60), np.int32)
    code_map[10:60, 10:30] = 1 + torso  # person 0's top
    code_map[60:100, 10:30] = 1 + thigh  # person 0's trousers
    code_map[10:60, 35:55] = 1 + parts + torso  # person 1's top (plain)
    image = np.full((100, 60, 3), 180, np.uint8)
    boxes = np.array([[10.0, 0.0, 30.0, 100.0], [35.0, 0.0, 55.0, 100.0]])
    paint_patterns(image, _raster(code_map, 2, boxes), np.array([PATTERNS.index("stripes"), 0]), min_height=40.0)
    changed = (image != 180).any(axis=2)
    assert changed[10:60, 10:30].any() and not changed[10:60, 10:30].all()  # stripes: some rows darker
    assert not changed[60:, :].any() and not changed[:, 35:].any()  # trousers and the plain top untouched
    rows = np.flatnonzero(changed[:, 20])
    assert np.unique(changed[10:60, 10:30], axis=1).shape[1] == 1  # horizontal stripes: same in every column
    assert rows.min() >= 10 and rows.max() < 60


def test_patterns_leave_the_labels_unchanged():
    config = tiny_config(frames=1, count=1).with_image_size(320, 180)
    config = replace(config, sequences=(replace(config.sequences[0], people=(25, 25)),))
    sample = next(iter(generate(config, seed=4)))
    p = sample.annotation.persons
    assert np.isfinite(p.boxes).all() and sample.annotation.instance_map.max() == len(p)
