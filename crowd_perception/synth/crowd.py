"""Pedestrians moving on the ground plane: who is where, heading where, in which gait.

A fixed number of people is kept in the region in front of the (moving) camera. Pavement walkers
go along the street, crossers go across it (at the zebra crossing or anywhere), some stand, a few
run; groups walk together. Whoever leaves the region (behind the camera, past the far end,
into a building) is replaced by a new identity entering at the far end, from behind the camera,
or from a doorway, so identities stay stable while they are present and are never reused.
A short-range repulsion keeps bodies from interpenetrating, and nobody walks through an occluder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .body import BodyShapes, Gait, sample_shapes
from .config import SequenceConfig
from .palette import Palette, pick_colours
from .world import StreetLayout

__all__ = ["Crowd"]

_MIN_GAP = 0.55  # metres between body centres


@dataclass
class _Mix:
    crossing: float
    standing: float
    running: float


class Crowd:
    """State of all pedestrians of one sequence (struct of arrays, one row per person)."""

    def __init__(self, rng: np.random.Generator, palette: Palette, layout: StreetLayout, spec: SequenceConfig,
                 camera_z: float, obstacles: np.ndarray | None = None) -> None:
        self.rng = rng
        self.obstacles = np.zeros((0, 4)) if obstacles is None else np.asarray(obstacles, dtype=float).reshape(-1, 4)
        self.palette = palette
        self.layout = layout
        self.max_distance = spec.max_distance_m
        self.target = int(rng.integers(spec.people[0], spec.people[1] + 1))
        self.mix = _Mix(*(float(rng.uniform(*r)) for r in (spec.crossing_fraction, spec.standing_fraction,
                                                           spec.running_fraction)))
        self.next_id = 1
        self.ids = np.zeros(0, np.int64)
        self.position = np.zeros((0, 2))  # (x, z) on the ground
        self.heading = np.zeros(0)  # yaw, 0 = +Z
        self.speed = np.zeros(0)
        self.gait = np.zeros(0, np.int64)
        self.phase = np.zeros(0)
        self.shapes = sample_shapes(rng, 0)
        self.colours = np.zeros((0, 6, 3))  # top, bottom, shoe, skin, hair, bag
        self._spawn(self.target, camera_z, initial=True)
        for _ in range(3):  # settle the initial placement: no overlapping bodies, nobody inside an occluder
            self._separate()
        self._avoid_obstacles()

    def __len__(self) -> int:
        return len(self.ids)

    # -- population -----------------------------------------------------------------------------

    def _spawn(self, count: int, camera_z: float, initial: bool) -> None:
        """Add ``count`` new identities: single walkers and small groups (leaders drawn, companions beside)."""
        if count <= 0:
            return
        rng = self.rng
        sizes = self._group_sizes(count)
        position, heading, speed, gait = self._leaders(len(sizes), camera_z, initial)
        index = np.repeat(np.arange(len(sizes)), sizes)
        offsets = rng.uniform(-1.2, 1.2, size=(count, 2))
        offsets[np.r_[0, np.cumsum(sizes)[:-1]]] = 0.0  # each group's leader keeps its place
        position, heading, gait = position[index] + offsets, heading[index], gait[index]
        speed = speed[index] * rng.uniform(0.97, 1.03, count)
        n = count
        self.ids = np.concatenate([self.ids, np.arange(self.next_id, self.next_id + n)])
        self.next_id += n
        self.position = np.concatenate([self.position, position])
        self.heading = np.concatenate([self.heading, heading])
        self.speed = np.concatenate([self.speed, speed])
        self.gait = np.concatenate([self.gait, gait])
        self.phase = np.concatenate([self.phase, rng.uniform(0.0, 2 * np.pi, n)])
        self.shapes = BodyShapes.concat([self.shapes, sample_shapes(rng, n)])
        pal = self.palette
        colours = np.stack([pick_colours(rng, base, n) for base in (pal.tops, pal.bottoms, pal.shoes)]
                           + [pick_colours(rng, pal.skin, n, 8.0), pick_colours(rng, pal.hair, n, 8.0),
                              pick_colours(rng, pal.bottoms, n, 25.0)], axis=1)
        self.colours = np.concatenate([self.colours, colours])

    def _group_sizes(self, count: int) -> np.ndarray:
        """Split ``count`` people into groups: 70 % walk alone, the others in groups of 2-4."""
        sizes: list[int] = []
        while sum(sizes) < count:
            size = 1 if self.rng.random() < 0.7 else int(self.rng.integers(2, 5))
            sizes.append(min(size, count - sum(sizes)))
        return np.array(sizes)

    def _leaders(self, count: int, camera_z: float, initial: bool):
        """Position, heading, speed and gait of ``count`` group leaders by behaviour."""
        rng, lay = self.rng, self.layout
        behaviour = rng.choice(3, size=count, p=self._behaviour_p())  # 0 pavement, 1 crossing, 2 standing
        side = rng.choice([-1.0, 1.0], size=count)
        near, far = camera_z + 2.0, camera_z + self.max_distance
        x = side * (lay.road_half + rng.uniform(0.4, max(lay.pavement - 0.4, 0.5), count))
        if initial:  # denser near the camera than uniform on the ground: more large, detailed people
            z = near + (far - near) * rng.random(count) ** 1.5
            heading = np.where(rng.random(count) < 0.5, 0.0, np.pi) + rng.normal(0.0, 0.05, count)
        else:  # enter at the far end walking towards the camera, or from behind it walking away
            z = np.where(rng.random(count) < 0.7, far - rng.uniform(0.0, 3.0, count), camera_z - 1.0)
            heading = np.where(z > camera_z, np.pi, 0.0) + rng.normal(0.0, 0.05, count)
        crossing = behaviour == 1
        if crossing.any():  # at the zebra crossing or anywhere; newcomers step out of a doorway
            at_zebra = rng.random(count) < 0.5
            anywhere = near + (far - near) * rng.random(count) ** 2
            z = np.where(crossing, np.where(at_zebra, lay.crossing_z + rng.uniform(-1.8, 1.8, count), anywhere), z)
            start = rng.uniform(0.0, lay.facade_x, count) if initial else lay.facade_x - 0.3
            x = np.where(crossing, side * start, x)
            heading = np.where(crossing, -side * np.pi / 2 + rng.normal(0.0, 0.1, count), heading)
        running = (behaviour == 0) & (rng.random(count) < self.mix.running / max(1e-6, self._behaviour_p()[0]))
        gait = np.where(behaviour == 2, Gait.STAND, np.where(running, Gait.RUN, Gait.WALK))
        speed = np.select([gait == Gait.WALK, gait == Gait.RUN],
                          [rng.uniform(0.9, 1.7, count), rng.uniform(2.5, 4.0, count)], 0.0)
        heading = np.where(gait == Gait.STAND, rng.uniform(-np.pi, np.pi, count), heading)
        return np.stack([x, z], axis=-1), heading, speed, gait

    def _behaviour_p(self) -> np.ndarray:
        p = np.array([max(0.0, 1.0 - self.mix.crossing - self.mix.standing), self.mix.crossing, self.mix.standing])
        return p / p.sum() if p.sum() > 0 else np.array([1.0, 0.0, 0.0])

    def _keep(self, keep: np.ndarray) -> None:
        self.ids, self.position, self.heading = self.ids[keep], self.position[keep], self.heading[keep]
        self.speed, self.gait, self.phase = self.speed[keep], self.gait[keep], self.phase[keep]
        self.shapes, self.colours = self.shapes.take(keep), self.colours[keep]

    # -- motion ---------------------------------------------------------------------------------

    def step(self, dt: float, camera_z: float) -> None:
        """Advance everybody by ``dt`` seconds, then replace those who left the region."""
        lay = self.layout
        direction = np.stack([np.sin(self.heading), np.cos(self.heading)], axis=-1)
        self.position = self.position + direction * (self.speed * dt)[:, None]
        self._separate()
        self._avoid_obstacles()
        # Crossers who reached the far pavement turn to walk along it.
        across = np.abs(np.sin(self.heading)) > 0.7
        arrived = across & (np.abs(self.position[:, 0]) > lay.road_half + 0.8) & (
            np.sign(self.position[:, 0]) == np.sign(np.sin(self.heading)))
        self.heading = np.where(arrived, np.where(self.rng.random(len(self)) < 0.5, 0.0, np.pi), self.heading)
        # Cycle phase: one cycle (two steps) per stride; standing people sway slowly.
        stride = np.where(self.gait == Gait.RUN, 1.5, 0.85) * self.shapes.height
        rate = np.where(self.gait == Gait.STAND, 0.6, 2 * np.pi * self.speed / stride)
        self.phase = np.mod(self.phase + rate * dt, 2 * np.pi)
        x, z = self.position[:, 0], self.position[:, 1]
        inside = (z > camera_z - 1.5) & (z < camera_z + self.max_distance + 5.0) & (np.abs(x) < lay.facade_x - 0.2)
        if not inside.all():
            self._keep(inside)
        self._spawn(self.target - len(self), camera_z, initial=False)

    def _separate(self) -> None:
        """Push apart pairs closer than ``_MIN_GAP`` (half the overlap each)."""
        if len(self) < 2:
            return
        delta = self.position[:, None, :] - self.position[None, :, :]
        dist = np.linalg.norm(delta, axis=-1)
        np.fill_diagonal(dist, np.inf)
        overlap = np.clip(_MIN_GAP - dist, 0.0, None)
        if not overlap.any():
            return
        push = (delta / np.maximum(dist, 1e-6)[..., None] * (0.5 * overlap)[..., None]).sum(axis=1)
        self.position = self.position + push

    def _avoid_obstacles(self) -> None:
        """Move anyone inside an occluder footprint (grown by a body radius) out through the nearest side."""
        if not len(self) or not len(self.obstacles):
            return
        grown = self.obstacles + np.array([-1.0, 1.0, -1.0, 1.0]) * (0.5 * _MIN_GAP)  # (O, 4) x0 x1 z0 z1
        x, z = self.position[:, 0:1], self.position[:, 1:2]
        # Distance to push out through each side: left, right, near, far; inside only if all positive.
        sides = np.stack([x - grown[:, 0], grown[:, 1] - x, z - grown[:, 2], grown[:, 3] - z], axis=-1)  # (N, O, 4)
        inside = (sides > 0).all(axis=-1)
        if not inside.any():
            return
        person, obstacle = np.nonzero(inside)
        side = np.argmin(sides[person, obstacle], axis=-1)
        depth = sides[person, obstacle, side]
        step = np.zeros((len(person), 2))
        step[side == 0, 0] = -depth[side == 0]
        step[side == 1, 0] = depth[side == 1]
        step[side == 2, 1] = -depth[side == 2]
        step[side == 3, 1] = depth[side == 3]
        np.add.at(self.position, person, step)

    def world_transform(self) -> tuple[np.ndarray, np.ndarray]:
        """Per person: ``(N, 3, 3)`` body-to-world rotation (columns right, up, forward) and ``(N, 3)`` origin."""
        s, c = np.sin(self.heading), np.cos(self.heading)
        zeros, ones = np.zeros_like(s), np.ones_like(s)
        right = np.stack([c, zeros, -s], axis=-1)
        up = np.stack([zeros, ones, zeros], axis=-1)
        forward = np.stack([s, zeros, c], axis=-1)
        origin = np.stack([self.position[:, 0], zeros, self.position[:, 1]], axis=-1)
        return np.stack([right, up, forward], axis=-1), origin
