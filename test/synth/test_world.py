"""Street: near-plane clipping, occluder placement, background rendering."""

from __future__ import annotations

import numpy as np

from crowd_perception.core.camera import PinholeCamera
from crowd_perception.synth.palette import get_palette
from crowd_perception.synth.rig import EgoMotion
from crowd_perception.synth.world import NEAR, StreetLayout, build_street, clip_polygon_near

K = PinholeCamera.from_fov(320, 180, 70.0)
LAYOUT = StreetLayout(road_half=5.0, pavement=4.0, z_start=-30.0, z_end=250.0, crossing_z=15.0)


def test_clip_polygon_near():
    square = np.array([[-1.0, 0.0, -1.0], [1.0, 0.0, -1.0], [1.0, 0.0, 3.0], [-1.0, 0.0, 3.0]])
    clipped = clip_polygon_near(square)
    assert len(clipped) == 4 and np.all(clipped[:, 2] >= NEAR - 1e-12)
    np.testing.assert_allclose(sorted(clipped[:, 2]), [NEAR, NEAR, 3.0, 3.0])
    in_front = square + [0.0, 0.0, 2.0]
    np.testing.assert_array_equal(clip_polygon_near(in_front), in_front)
    assert len(clip_polygon_near(square - [0.0, 0.0, 5.0])) == 0


def _street(seed: int = 0, occluders: int = 12):
    pose = EgoMotion(1.5, 1.5, np.radians(3.0), 5.0, 0.0, K).pose(0.0)
    return build_street(np.random.default_rng(seed), get_palette("temperate"), LAYOUT, pose, occluders, 1.5), pose


def test_occluders_do_not_overlap_or_block_the_lane_and_the_crossing():
    street, _ = _street()
    assert len(street.occluders) > 5
    fps = np.array([o.footprint for o in street.occluders])
    for i in range(len(fps)):
        for j in range(i + 1, len(fps)):
            a, b = fps[i], fps[j]
            assert a[1] <= b[0] or b[1] <= a[0] or a[3] <= b[2] or b[3] <= a[2]
    for occ in street.occluders:
        if occ.kind == "car":
            x0, x1, z0, z1 = occ.footprint
            assert min(abs(x0 - 1.5), abs(x1 - 1.5)) > 0.9 and not (x0 < 1.5 < x1)
            assert abs(0.5 * (z0 + z1) - LAYOUT.crossing_z) >= 5.0


def test_background_has_sky_above_and_street_below():
    street, pose = _street()
    image = street.render_background(pose)
    assert image.shape == (180, 320, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[0, 160], street.sky[0, 160])  # the sky straight up the street
    assert np.any(image[-1] != street.sky[-1])  # the road covers the bottom rows
    moved = street.render_background(EgoMotion(1.5, 1.5, np.radians(3.0), 5.0, 0.0, K).pose(1.0))
    assert np.mean(np.abs(moved.astype(int) - image.astype(int))) > 1.0  # the view changes as the car drives


def test_the_facades_facing_away_from_the_sun_are_in_shade():
    pose = EgoMotion(1.5, 1.5, np.radians(3.0), 5.0, 0.0, K).pose(0.0)
    streets = {name: build_street(np.random.default_rng(4), get_palette("temperate"), LAYOUT, pose, 6, 1.5, sun)
               for name, sun in (("overcast", None), ("sun_left", np.array([1.0, 0.0])))}  # shadows towards +x
    # Planes: ground, then (upper facade, shop fronts) for the left side, then for the right side.
    cloudy, sunny = streets["overcast"].planes, streets["sun_left"].planes
    for plane in (1, 2):  # the left buildings face +x, away from a sun on the left
        ratio = sunny[plane].texture.astype(float).mean() / cloudy[plane].texture.astype(float).mean()
        assert 0.5 < ratio < 0.6
    for plane in (3, 4):
        np.testing.assert_array_equal(sunny[plane].texture, cloudy[plane].texture)
    assert sunny[0].texture.astype(float).mean() < cloudy[0].texture.astype(float).mean()  # cast shadows
