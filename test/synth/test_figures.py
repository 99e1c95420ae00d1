"""Person-shaped figures: styles, placement of their hulls, painting into a texture."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.synth.body import PARTS, Gait
from crowd_perception.synth.figures import FIGURE_STYLES, figure_hulls, make_figure, paint_figure
from crowd_perception.synth.palette import get_palette

PALETTE = get_palette("vivid")


@pytest.mark.parametrize("style", FIGURE_STYLES)
def test_figures_are_bodies_of_their_style(style):
    spheres, enabled, colours = make_figure(np.random.default_rng(0), PALETTE, style, Gait.WALK)
    assert spheres.shape[1] == 4 and enabled.shape == (len(PARTS),) and colours.shape == (len(PARTS), 3)
    one_colour = np.ptp(colours, axis=0).max() == 0
    assert one_colour == (style != "clothed")  # plastic and stone are one material
    assert enabled[PARTS.index("hair")] == (style == "clothed")  # mannequins and statues are bald
    again = make_figure(np.random.default_rng(0), PALETTE, style, Gait.WALK)
    np.testing.assert_array_equal(again[0], spheres)
    with pytest.raises(ValueError, match="unknown figure style"):
        make_figure(np.random.default_rng(0), PALETTE, "robot")


def test_figure_hulls_stand_at_their_origin_and_face_their_heading():
    spheres, enabled, colours = make_figure(np.random.default_rng(1), PALETTE, "mannequin")
    origin = np.array([3.0, 0.5, 10.0])
    hulls = figure_hulls(spheres, enabled, colours, origin, heading=np.pi / 2)  # facing +X
    world = np.concatenate([h.spheres for h in hulls])
    assert len(hulls) == enabled.sum()
    assert abs((world[:, 1] - world[:, 3]).min() - origin[1]) < 0.1  # feet on the stand
    nose_side = world[:, 0].max() - origin[0]
    assert nose_side > 0.05 and abs(world[:, 2].mean() - origin[2]) < 0.15  # body across Z, thin along X


def test_paint_figure_paints_a_tall_narrow_shape():
    image = np.zeros((120, 80, 3), np.float32)
    spheres, enabled, colours = make_figure(np.random.default_rng(2), PALETTE, "statue")
    paint_figure(image, spheres, enabled, colours, (40.0, 115.0), 60.0)
    rows, cols = np.nonzero(image.any(axis=2))
    height, width = rows.max() - rows.min(), cols.max() - cols.min()
    assert 80 < height < 118 and width < 0.6 * height  # 1.5-1.95 m at 60 px/m, upright
