"""Pedestrian motion: population size, identities, obstacles."""

from __future__ import annotations

import numpy as np

from crowd_perception.synth.config import SequenceConfig
from crowd_perception.synth.crowd import Crowd
from crowd_perception.synth.palette import get_palette
from crowd_perception.synth.world import StreetLayout

LAYOUT = StreetLayout(road_half=5.0, pavement=4.0, z_start=-30.0, z_end=300.0, crossing_z=15.0)


def _crowd(people: int = 30, obstacles: np.ndarray | None = None, seed: int = 0) -> Crowd:
    spec = SequenceConfig(people=(people, people), crossing_fraction=(0.3, 0.3), standing_fraction=(0.1, 0.1))
    return Crowd(np.random.default_rng(seed), get_palette("temperate"), LAYOUT, spec, camera_z=0.0,
                 obstacles=obstacles)


def test_population_is_kept_and_ids_are_never_reused():
    crowd = _crowd()
    assert len(crowd) == 30
    assert len(np.unique(crowd.heading)) < len(crowd)  # some walk in groups (shared heading)
    seen = set(crowd.ids.tolist())
    camera_z = 0.0
    for _ in range(100):  # 10 s at 10 fps with the camera driving at 8 m/s
        camera_z += 0.8
        before = set(crowd.ids.tolist())
        crowd.step(0.1, camera_z)
        assert len(crowd) >= 30
        new = set(crowd.ids.tolist()) - before
        assert not new & seen  # a newcomer never carries an old identity
        seen |= new
    assert len(seen) > 30  # people left and others entered
    assert np.all(crowd.position[:, 1] > camera_z - 1.5)


def test_nobody_stands_inside_an_obstacle():
    obstacles = np.array([[4.0, 5.8, 10.0, 14.5], [-6.0, -5.5, 20.0, 20.5]])  # a parked car and a bin
    crowd = _crowd(60, obstacles)
    for _ in range(30):
        crowd.step(0.1, 0.0)
        x, z = crowd.position[:, :1], crowd.position[:, 1:]
        inside = (x > obstacles[:, 0]) & (x < obstacles[:, 1]) & (z > obstacles[:, 2]) & (z < obstacles[:, 3])
        assert not inside.any()


def test_walkers_advance_and_standers_stay():
    crowd = _crowd()
    ids, position, speed, phase = crowd.ids.copy(), crowd.position.copy(), crowd.speed.copy(), crowd.phase.copy()
    crowd.step(0.1, 0.0)
    _, i, j = np.intersect1d(ids, crowd.ids, return_indices=True)
    moved = np.linalg.norm(crowd.position[j] - position[i], axis=1)
    walking = speed[i] > 0
    assert walking.any() and (~walking).any()
    assert np.all(moved[walking] > 0.5 * 0.1 * speed[i][walking])
    assert np.all(moved[~walking] < 0.3)  # only the repulsion moves standing people
    assert np.all(crowd.phase[j] != phase[i])  # gait cycles (and the standing sway) advance


def test_person_facing_the_camera_shows_its_left_side_on_the_image_right():
    crowd = _crowd(3)
    crowd.heading[:] = np.pi  # walking towards a camera that looks along +Z
    rotation, _ = crowd.world_transform()
    left, forward = rotation @ np.array([-1.0, 0.0, 0.0]), rotation @ np.array([0.0, 0.0, 1.0])
    np.testing.assert_allclose(left, [[1.0, 0.0, 0.0]] * 3, atol=1e-12)  # world +X = camera right
    np.testing.assert_allclose(forward, [[0.0, 0.0, -1.0]] * 3, atol=1e-12)


def test_initial_placement_keeps_bodies_apart():
    crowd = _crowd(60)
    d = np.linalg.norm(crowd.position[:, None] - crowd.position[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    assert d.min() > 0.4  # three relaxation passes leave at most a shallow overlap (the gap is 0.55 m)
