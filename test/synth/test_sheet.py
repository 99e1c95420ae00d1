"""Contact sheet and ground-truth drawing."""

from __future__ import annotations

import numpy as np

from crowd_perception.synth.sheet import contact_sheet, draw_annotation, draw_instances


def test_drawing_changes_only_a_copy(tiny_samples):
    sample = tiny_samples[0]
    before = sample.image.copy()
    drawn = draw_annotation(sample.image, sample.annotation)
    masks = draw_instances(sample.image, sample.annotation)
    np.testing.assert_array_equal(sample.image, before)
    assert drawn.shape == masks.shape == before.shape
    assert np.any(drawn != before)
    # Mask pixels are coloured, background is darkened.
    inside = sample.annotation.instance_map > 0
    assert masks[~inside].max() <= before[~inside].max() // 3 + 1


def test_contact_sheet_layout():
    tiles = (("val_a", None, 0), ("bench", "sparse", 0))
    sheet = contact_sheet(seed=0, tile_width=160, tile_height=90, frame=1, tiles=tiles)
    assert sheet.dtype == np.uint8 and sheet.shape[1] == 2 * 160 and sheet.shape[0] > 2 * 90
