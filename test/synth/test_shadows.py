"""Static shadows baked into the ground: under the sun they darken the street, under clouds nothing."""

from __future__ import annotations

import numpy as np

from crowd_perception.synth.objects import Occluder, box
from crowd_perception.synth.shadows import SHADOW_STRENGTH, bake_shadows
from crowd_perception.synth.textures import Block

RES = (10.0, 10.0)
ORIGIN = (-10.0, 0.0)  # texel (0, 0) is world (x, z) = (-10, 0)


def _ground() -> np.ndarray:
    return np.full((400, 200, 3), 100.0, np.float32)  # x in [-10, 10), z in [0, 40)


def _texel(x: float, z: float) -> tuple[int, int]:
    return int((z - ORIGIN[1]) * RES[1]), int((x - ORIGIN[0]) * RES[0])


def test_an_object_casts_its_shadow_away_from_the_sun():
    pole = Occluder("pole", (box(0.0, 20.0, (0.2, 4.0, 0.2), 0.0, np.zeros(3)),), np.array([-0.1, 0.1, 19.9, 20.1]))
    ground = _ground()
    bake_shadows(ground, ORIGIN, RES, np.array([1.0, 0.0]), 9.0, {}, 0.0, [pole])
    assert ground[_texel(2.0, 20.0)][0] < 100.0 * (1 - 0.8 * SHADOW_STRENGTH)  # 2 m along +x: in the shadow
    assert ground[_texel(-2.0, 20.0)][0] == 100.0  # the sunny side
    assert ground[_texel(6.0, 20.0)][0] == 100.0  # beyond the 4 m shadow


def test_buildings_shade_the_street_only_on_the_side_the_sun_is_behind():
    blocks = {-1.0: [Block(0.0, 40.0, 5.0, np.zeros(3))], 1.0: [Block(0.0, 40.0, 5.0, np.zeros(3))]}
    ground = _ground()
    bake_shadows(ground, ORIGIN, RES, np.array([0.5, 0.0]), 8.0, blocks, 0.0, [])
    assert ground[_texel(-7.0, 20.0)][0] < 80.0  # 2.5 m of shadow in front of the left buildings
    assert ground[_texel(7.0, 20.0)][0] == 100.0  # the right facade casts its shadow behind itself
    overcast = _ground()
    bake_shadows(overcast, ORIGIN, RES, np.zeros(2), 8.0, blocks, 0.0, [])
    assert np.all(overcast == 100.0)


def test_ground_light_tells_who_stands_in_a_shadow():
    pole = Occluder("pole", (box(0.0, 20.0, (0.2, 4.0, 0.2), 0.0, np.zeros(3)),), np.array([-0.1, 0.1, 19.9, 20.1]))
    light = bake_shadows(_ground(), ORIGIN, RES, np.array([1.0, 0.0]), 9.0, {}, 0.0, [pole])
    factors = light.at(np.array([[2.0, 20.0], [-2.0, 20.0], [50.0, 100.0]]))  # the last one off the texture
    assert factors[0] < 1.0 - 0.8 * SHADOW_STRENGTH and factors[1] == 1.0 and factors[2] == 1.0
    assert bake_shadows(_ground(), ORIGIN, RES, np.zeros(2), 9.0, {}, 0.0, [pole]) is None  # overcast
