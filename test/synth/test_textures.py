"""Procedural textures: noise statistics, textured (not flat) ground, facades and shop fronts."""

from __future__ import annotations

import numpy as np

from crowd_perception.synth.palette import get_palette
from crowd_perception.synth.textures import (
    SHOP_HEIGHT,
    Block,
    facade_texture,
    fractal_noise,
    ground_texture,
    shopfront_texture,
)
from crowd_perception.synth.world import StreetLayout

LAYOUT = StreetLayout(road_half=5.0, pavement=4.0, z_start=-30.0, z_end=120.0, crossing_z=15.0)
PALETTE = get_palette("temperate")


def test_fractal_noise_is_zero_mean_unit_scale_and_deterministic():
    a = fractal_noise(np.random.default_rng(0), (200, 300), 40.0)
    b = fractal_noise(np.random.default_rng(0), (200, 300), 40.0)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (200, 300) and a.dtype == np.float32 and np.isfinite(a).all()
    assert abs(a.mean()) < 0.5 and 0.5 < a.std() < 2.5
    # Features of about ``cell`` pixels: neighbours are strongly correlated.
    assert np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1] > 0.8


def test_ground_is_textured_not_flat():
    tex, x_lo = ground_texture(np.random.default_rng(1), PALETTE, LAYOUT, (16.0, 8.0))
    assert tex.shape == (int(np.ceil(150 * 8)), int(np.ceil(2 * 9.5 * 16)), 3) and np.isfinite(tex).all()
    assert x_lo == -LAYOUT.facade_x - 0.5
    road = tex[:, np.abs(x_lo + np.arange(tex.shape[1]) / 16.0) < 3.0]
    assert road.std() > 4.0  # asphalt grain, patches and markings, not one colour


def test_facades_have_buildings_and_textured_shop_fronts():
    tex, blocks, bottom = facade_texture(np.random.default_rng(2), PALETTE, LAYOUT, 10.0, 30.0)
    assert bottom < SHOP_HEIGHT and blocks and all(b.z0 < b.z1 and bottom < b.height <= 30.0 for b in blocks)
    assert tex.std() > 10.0
    shops = shopfront_texture(np.random.default_rng(3), PALETTE, blocks, LAYOUT.z_end - LAYOUT.z_start, 30.0)
    assert shops.shape[0] == int(SHOP_HEIGHT * 30.0) and np.isfinite(shops).all()
    # A single building of one colour still gets a structured ground floor (shops or doors and posters).
    flat = [Block(0.0, 20.0, 10.0, np.array([150.0, 150.0, 150.0]))]
    assert shopfront_texture(np.random.default_rng(3), PALETTE, flat, 20.0, 30.0).std() > 5.0


def test_the_building_library_is_the_same_in_every_street_and_streets_still_differ():
    a, blocks_a, _ = facade_texture(np.random.default_rng(5), PALETTE, LAYOUT, 10.0, 30.0)
    b, _, _ = facade_texture(np.random.default_rng(5), PALETTE, LAYOUT, 10.0, 30.0)
    np.testing.assert_array_equal(a, b)  # a seed is a street, whatever was drawn before in the process
    c, blocks_c, _ = facade_texture(np.random.default_rng(6), PALETTE, LAYOUT, 10.0, 30.0)
    assert [blk.z0 for blk in blocks_c] != [blk.z0 for blk in blocks_a] and np.abs(c - a).mean() > 5.0
