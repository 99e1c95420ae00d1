"""Street clutter: parked cars, street furniture, trees, bikes and the person-shaped hard negatives.

Objects are placed on the kerb or the pavement with non-overlapping footprints, never in the
vehicle's lane nor on the zebra crossing. Besides cars, poles, bins, benches and bollards (what
hides people), the street has what a detector trained on clean scenes mistakes for people: lamp
posts and sign posts (tall thin verticals), trees (a trunk under a crown), parked bikes,
advertising boards printed with people, mannequins on stands and statues on plinths. None of them
is ever labelled; all of them hide whoever stands behind them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .figures import figure_hulls, make_figure
from .objects import Cuboid, Hull, Occluder, box
from .palette import Palette, pick_colours

if TYPE_CHECKING:
    from .world import StreetLayout

__all__ = ["KINDS", "HARD_NEGATIVES", "place_clutter", "build_object"]

KINDS: dict[str, float] = {
    "car": 0.26, "pole": 0.06, "lamp": 0.08, "sign": 0.06, "tree": 0.12, "bin": 0.06, "bench": 0.04,
    "bollard": 0.06, "bike": 0.07, "poster": 0.07, "mannequin": 0.06, "statue": 0.06,
}
"""Object kinds and their share of a street's objects."""
HARD_NEGATIVES = ("poster", "mannequin", "statue")
"""Kinds shaped like a person (never labelled as one)."""
_TYRE = np.array([25.0, 25.0, 28.0])
_DARK_GLASS = np.array([60.0, 50.0, 45.0])
_GREENS = np.array([[40.0, 95.0, 60.0], [35.0, 80.0, 45.0], [60.0, 120.0, 80.0], [40.0, 110.0, 100.0]])
_BARK = np.array([[40.0, 55.0, 70.0], [60.0, 70.0, 80.0]])
_STONE = np.array([[170.0, 172.0, 175.0], [140.0, 150.0, 160.0], [110.0, 112.0, 115.0]])


def place_clutter(rng: np.random.Generator, palette: Palette, layout: StreetLayout, count: int, lane_x: float
                  ) -> list[Occluder]:
    """``count`` objects (fewer when no free place is found in 10 tries) from just ahead of the camera on."""
    occluders: list[Occluder] = []
    z_lo, z_hi = 3.0, layout.z_end - 150.0  # from just ahead of the camera to the end of its path + view
    names = list(KINDS)
    kinds = rng.choice(names, size=count, p=np.array([KINDS[k] for k in names]) / sum(KINDS.values()))
    taken: list[np.ndarray] = []
    for kind in kinds:
        for _ in range(10):  # rejection sampling: footprints must not overlap
            side = float(rng.choice([-1.0, 1.0]))
            z = z_lo + (z_hi - z_lo) * rng.random() ** 1.5
            if kind == "car":
                x = side * (layout.road_half - 1.15)
                if abs(x - lane_x) < 2.0 or abs(z - layout.crossing_z) < 5.0:
                    continue  # not in the vehicle's lane, not on the zebra crossing
            occluder = build_object(kind, rng, palette, layout, side, z)
            fp = occluder.footprint
            if all(fp[1] + 0.3 < o[0] or o[1] + 0.3 < fp[0] or fp[3] + 0.3 < o[2] or o[3] + 0.3 < fp[2]
                   for o in taken):
                taken.append(fp)
                occluders.append(occluder)
                break
    return occluders


def build_object(kind: str, rng: np.random.Generator, palette: Palette, layout: StreetLayout, side: float, z: float
                 ) -> Occluder:
    """One object of ``kind`` (a :data:`KINDS` key) on side ``side`` (-1 left, +1 right) at ``z`` along the street."""
    if kind not in _BUILDERS:
        raise ValueError(f"unknown object kind {kind!r}; known: {sorted(_BUILDERS)}")
    return _BUILDERS[kind](rng, palette, layout, side, z)


def _kerb_x(rng: np.random.Generator, layout: StreetLayout, side: float, lo: float = 0.35, hi: float = 0.8) -> float:
    """A position on the pavement ``lo..hi`` metres from the kerb."""
    return side * (layout.road_half + rng.uniform(lo, hi))


def _occluder(kind: str, cuboids: list[Cuboid], hulls: tuple[Hull, ...] = (), footprint: Cuboid | None = None
              ) -> Occluder:
    """An occluder whose footprint is that of ``footprint`` (default: the first cuboid)."""
    base = footprint or cuboids[0]
    return Occluder(kind, tuple(cuboids), np.array([base.lo[0], base.hi[0], base.lo[2], base.hi[2]]), hulls)


def _car(rng: np.random.Generator, palette: Palette, layout: StreetLayout, side: float, z: float) -> Occluder:
    """A parked car or van along the kerb: body, cabin (glass or, for a van, painted with side windows),
    round wheels (capsules across the axles) and lamps at both ends."""
    x = side * (layout.road_half - 1.15)
    length, width = rng.uniform(3.8, 4.8), rng.uniform(1.65, 1.9)
    paint = pick_colours(rng, palette.vehicles, 1, 10)[0]
    axle = 0.36 * length
    van = rng.random() < 0.2
    roof = rng.uniform(1.0, 1.3) if van else rng.uniform(0.42, 0.55)
    body = box(x, z, (width, rng.uniform(0.55, 0.7), length), 0.3, paint)
    cuboids = [
        body,
        box(x, z - 0.1 * length, (width * 0.9, roof, length * (0.8 if van else 0.52)), 0.95,
            paint * 0.9 if van else _DARK_GLASS),
        box(x, z - length / 2, (width * 0.8, 0.12, 0.04), 0.7, np.array([40.0, 40.0, 200.0])),  # rear lamps
        box(x, z + length / 2, (width * 0.8, 0.12, 0.04), 0.7, np.array([220.0, 235.0, 240.0])),  # headlamps
    ]
    if van:  # side windows on the cabin
        cuboids.append(box(x, z - 0.3 * length, (width * 0.92, 0.4, length * 0.3), 1.4, _DARK_GLASS))
    wheels = tuple(_capsule(np.array([x + s * 0.3 * width, 0.31, z + a]), np.array([x + s * 0.45 * width, 0.31, z + a]),
                            0.31, _TYRE) for a in (-axle, axle) for s in (-1.0, 1.0))
    return _occluder("car", cuboids, wheels)


def _furniture(rng: np.random.Generator, palette: Palette, layout: StreetLayout, side: float, z: float,
               kind: str) -> Occluder:
    colour = pick_colours(rng, palette.furniture, 1, 10)[0]
    x = _kerb_x(rng, layout, side, hi=1.2 if kind == "bench" else 0.8)
    size = {
        "pole": (0.12, rng.uniform(3.0, 5.5), 0.12),
        "bin": (0.55, rng.uniform(0.9, 1.1), 0.55),
        "bench": (0.6, 0.5, rng.uniform(1.5, 2.2)),
        "bollard": (0.2, rng.uniform(0.8, 1.0), 0.2),
    }[kind]
    cuboids = [box(x, z, size, 0.0, colour)]
    if kind == "pole":  # a sign board near the top
        cuboids.append(box(x, z, (0.06, 0.6, 0.6), size[1] - 0.8, pick_colours(rng, palette.vehicles, 1, 20)[0]))
    elif kind == "bench":  # backrest
        cuboids.append(box(x + side * 0.25, z, (0.08, 0.45, size[2]), 0.5, colour * 0.85))
    elif kind == "bin":  # lid
        cuboids.append(box(x, z, (0.6, 0.08, 0.6), size[1], colour * 0.7))
    return _occluder(kind, cuboids)


def _lamp(rng: np.random.Generator, palette: Palette, layout: StreetLayout, side: float, z: float) -> Occluder:
    x, height = _kerb_x(rng, layout, side), rng.uniform(5.0, 8.0)
    grey = pick_colours(rng, palette.furniture, 1, 10)[0]
    reach = rng.uniform(0.8, 1.8)
    return _occluder("lamp", [
        box(x, z, (0.16, height, 0.16), 0.0, grey),
        box(x, z, (0.3, 0.8, 0.3), 0.0, grey * 0.8),  # base
        box(x - side * reach / 2, z, (reach, 0.1, 0.1), height - 0.1, grey),
        box(x - side * reach, z, (0.5, 0.15, 0.25), height - 0.2, np.array([200.0, 215.0, 220.0])),
    ])


def _sign(rng: np.random.Generator, palette: Palette, layout: StreetLayout, side: float, z: float) -> Occluder:
    x, height = _kerb_x(rng, layout, side), rng.uniform(2.2, 3.0)
    board = np.array([[200.0, 90.0, 20.0], [30.0, 30.0, 200.0], [235.0, 235.0, 235.0], [20.0, 180.0, 230.0]])
    size = rng.uniform(0.5, 0.8)
    return _occluder("sign", [
        box(x, z, (0.07, height, 0.07), 0.0, np.array([150.0, 150.0, 150.0])),
        box(x, z - 0.05, (size, size, 0.04), height - size, board[rng.integers(len(board))]),
    ])


def _tree(rng: np.random.Generator, palette: Palette, layout: StreetLayout, side: float, z: float) -> Occluder:
    x, trunk_h = _kerb_x(rng, layout, side, 0.6, 1.2), rng.uniform(1.8, 3.2)
    width = rng.uniform(0.18, 0.35)
    trunk = box(x, z, (width, trunk_h + 1.0, width), 0.0, pick_colours(rng, _BARK, 1, 8)[0])
    crown_r = rng.uniform(1.2, 2.4)
    centre = np.array([x, trunk_h + crown_r, z])
    hulls = []
    green = pick_colours(rng, _GREENS, 1, 10)[0]
    for _ in range(int(rng.integers(4, 8))):  # clumps of leaves, darker below, lighter on top
        offset = rng.normal(0.0, 0.45, 3) * crown_r * np.array([1.0, 0.7, 1.0])
        r = crown_r * rng.uniform(0.45, 0.7)
        spheres = np.concatenate([centre + offset + rng.normal(0.0, 0.3 * r, (3, 3)), np.full((3, 1), r)], axis=1)
        shade = 0.75 + 0.4 * np.clip(offset[1] / crown_r + 0.5, 0.0, 1.0)
        hulls.append(Hull(spheres, np.clip(green * shade + rng.normal(0.0, 6.0, 3), 0, 255)))
    hulls.sort(key=lambda h: h.spheres[:, 1].mean())  # lower clumps first, the lit top last
    return _occluder("tree", [trunk], tuple(hulls))


def _capsule(a: np.ndarray, b: np.ndarray, radius: float, colour: np.ndarray) -> Hull:
    return Hull(np.array([[*a, radius], [*b, radius]]), colour)


def _bike(rng: np.random.Generator, palette: Palette, layout: StreetLayout, side: float, z: float) -> Occluder:
    """A bike parked along the kerb: two wheels (rims of capsules, no spokes) and a frame."""
    x = _kerb_x(rng, layout, side, 0.4, 0.9)
    frame = pick_colours(rng, palette.vehicles, 1, 20)[0]
    wheel_r, base = 0.34, rng.uniform(0.95, 1.1)
    hubs = [np.array([x, wheel_r, z - base / 2]), np.array([x, wheel_r, z + base / 2])]
    angles = np.linspace(0.0, 2 * np.pi, 9)
    hulls = []
    for hub in hubs:  # octagonal rims
        ring = hub + wheel_r * np.stack([np.zeros(9), np.sin(angles), np.cos(angles)], axis=1)
        hulls += [_capsule(ring[i], ring[i + 1], 0.022, _TYRE) for i in range(8)]
    seat = hubs[0] + np.array([0.0, 0.55, 0.25])
    bar = hubs[1] + np.array([0.0, 0.65, -0.1])
    crank = 0.5 * (hubs[0] + hubs[1]) + np.array([0.0, -0.05, 0.0])
    for a, b in ((hubs[0], seat), (seat, crank), (crank, hubs[0]), (crank, bar), (seat, bar), (hubs[1], bar)):
        hulls.append(_capsule(a, b, 0.025, frame))
    hulls.append(_capsule(bar + [-0.25, 0.05, 0.0], bar + [0.25, 0.05, 0.0], 0.025, _TYRE))  # handlebar
    hulls.append(_capsule(seat + [0.0, 0.02, -0.08], seat + [0.0, 0.02, 0.1], 0.04, _TYRE))  # saddle
    stand = box(x, z, (0.1, 0.02, base + 2 * wheel_r), 0.0, _TYRE)  # footprint of the whole bike
    return _occluder("bike", [stand], tuple(hulls))


def _poster(rng: np.random.Generator, palette: Palette, layout: StreetLayout, side: float, z: float) -> Occluder:
    """Advertising board facing the traffic, printed with a person (life size or larger)."""
    near_facade = rng.random() < 0.5
    x = side * (layout.facade_x - 0.6) if near_facade else _kerb_x(rng, layout, side, 0.5, 1.0)
    width, height, lift = rng.uniform(1.1, 1.4), rng.uniform(1.7, 2.2), rng.uniform(0.3, 0.6)
    frame = pick_colours(rng, palette.furniture, 1, 10)[0]
    panel = box(x, z, (width, height, 0.12), lift, frame)
    backdrop = box(x, z - 0.065, (width - 0.1, height - 0.1, 0.01), lift + 0.05,
                   pick_colours(rng, palette.tops, 1, 30)[0])
    legs = [box(x + dx, z, (0.08, lift, 0.08), 0.0, frame) for dx in (-width / 3, width / 3)]
    spheres, enabled, colours = make_figure(rng, palette, "clothed", gait=rng.choice([0, 1]))
    scale = min(rng.uniform(0.7, 1.0), (height - 0.15) / 1.95)
    spheres = spheres.copy()
    spheres[:, 2] *= 0.05  # a print is flat: squash the body along its depth
    origin = np.array([x, lift + 0.06, z - 0.07 - spheres[:, 3].max() * scale])
    hulls = figure_hulls(spheres, enabled, colours, origin, np.pi, scale)
    return _occluder("poster", [panel, backdrop, *legs], hulls, footprint=panel)


def _mannequin(rng: np.random.Generator, palette: Palette, layout: StreetLayout, side: float, z: float) -> Occluder:
    """A shop's mannequin on a stand on the pavement, by the shop front, facing the street."""
    x = side * (layout.facade_x - rng.uniform(0.4, 0.9))
    style = "mannequin" if rng.random() < 0.7 else "clothed"
    spheres, enabled, colours = make_figure(rng, palette, style)
    stand = box(x, z, (0.45, 0.05, 0.45), 0.0, np.array([40.0, 40.0, 40.0]))
    heading = -np.pi / 2 * side + rng.normal(0.0, 0.4)
    return _occluder("mannequin", [stand], figure_hulls(spheres, enabled, colours, np.array([x, 0.05, z]), heading))


def _statue(rng: np.random.Generator, palette: Palette, layout: StreetLayout, side: float, z: float) -> Occluder:
    """A statue of a person on a stone plinth, on the pavement."""
    x = side * (layout.road_half + rng.uniform(1.0, max(1.1, layout.pavement - 1.0)))
    plinth_h, width = rng.uniform(0.4, 1.6), rng.uniform(0.8, 1.2)
    plinth = box(x, z, (width, plinth_h, width), 0.0, pick_colours(rng, _STONE, 1, 8)[0])
    spheres, enabled, colours = make_figure(rng, palette, "statue", gait=rng.choice([0, 1]))
    hulls = figure_hulls(spheres, enabled, colours, np.array([x, plinth_h, z]), rng.uniform(-np.pi, np.pi),
                         rng.uniform(1.0, 1.4))
    return _occluder("statue", [plinth], hulls)


def _furniture_builder(kind: str):
    def build(rng: np.random.Generator, palette: Palette, layout: StreetLayout, side: float, z: float) -> Occluder:
        return _furniture(rng, palette, layout, side, z, kind)

    return build


_BUILDERS = {
    "car": _car, "lamp": _lamp, "sign": _sign, "tree": _tree, "bike": _bike, "poster": _poster,
    "mannequin": _mannequin, "statue": _statue,
    **{kind: _furniture_builder(kind) for kind in ("pole", "bin", "bench", "bollard")},
}
