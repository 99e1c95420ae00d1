"""Person-shaped things that are not people: mannequins, statues and figures printed on posters.

They are the hard negatives of a street camera: a detector trained only on real people and plain
backgrounds fires on them. Each figure is the same articulated body model as a pedestrian
(:mod:`.body`), so shape alone cannot tell it apart; what differs is what a real one has: uniform
plastic or stone colours, a stand or plinth, a flat print inside a frame, a shop window around it.
They are drawn as objects (3D: :func:`figure_hulls`) or painted into textures (2D:
:func:`paint_figure`), never labelled.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

from .body import PART_COLOUR_ROLE, PART_SPHERES, PARTS, Gait, body_spheres, part_enabled, pose_joints, sample_shapes
from .hulls import SHIFT, hull_polygons, padded_index
from .objects import Hull
from .palette import Palette, pick_colours

__all__ = ["FIGURE_STYLES", "make_figure", "figure_hulls", "paint_figure"]

FIGURE_STYLES = ("mannequin", "statue", "clothed")
_PART_INDEX = padded_index(PART_SPHERES)
_MANNEQUIN = np.array([[235.0, 238.0, 240.0], [30.0, 30.0, 32.0], [170.0, 190.0, 215.0], [200.0, 205.0, 210.0]])
_STATUE = np.array([[60.0, 95.0, 130.0], [150.0, 150.0, 145.0], [90.0, 110.0, 95.0], [200.0, 200.0, 195.0]])
_BANK_SIZE, _BANK_SEED = 64, 20_261_207
_ROLE_INDEX = {"top": 0, "bottom": 1, "shoe": 2, "skin": 3, "hair": 4, "bag": 5, "sleeve": 0}


@cache
def _bank(gait: int) -> tuple[np.ndarray, np.ndarray]:
    """``_BANK_SIZE`` bodies of one gait (varied build and cycle phase), posed once per process.

    Posing one body at a time costs more than painting it; a fixed bank (its own seed, so every
    sequence sees the same bank) is posed in one vectorised call, and figures are drawn from it.
    """
    rng = np.random.default_rng(_BANK_SEED + gait)
    shapes = sample_shapes(rng, _BANK_SIZE)
    joints = pose_joints(shapes, np.full(_BANK_SIZE, gait), rng.uniform(0.0, 2 * np.pi, _BANK_SIZE))
    return body_spheres(joints, shapes), part_enabled(shapes)


def make_figure(rng: np.random.Generator, palette: Palette, style: str, gait: Gait = Gait.STAND
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One random figure in the body frame (x right, y up, z forward).

    Returns ``(S, 4)`` spheres, ``(P,)`` which parts it has and ``(P, 3)`` BGR per part: one plastic
    (``mannequin``, bald) or stone/bronze (``statue``, bald) colour, or clothes and hair like a
    pedestrian's (``clothed``, for prints).
    """
    if style not in FIGURE_STYLES:
        raise ValueError(f"unknown figure style {style!r}; known: {FIGURE_STYLES}")
    bank_spheres, bank_enabled = _bank(int(gait))
    pick = int(rng.integers(len(bank_spheres)))
    spheres, enabled = bank_spheres[pick].copy(), bank_enabled[pick].copy()
    if style == "clothed":
        roles = np.stack([pick_colours(rng, base, 1)[0] for base in (palette.tops, palette.bottoms, palette.shoes,
                                                                      palette.skin, palette.hair, palette.bottoms)])
        return spheres, enabled, roles[[_ROLE_INDEX[r] for r in PART_COLOUR_ROLE]]
    enabled[PARTS.index("hair")] = False
    base = _MANNEQUIN if style == "mannequin" else _STATUE
    return spheres, enabled, np.repeat(pick_colours(rng, base, 1, 6.0), len(PART_SPHERES), axis=0)


def figure_hulls(spheres: np.ndarray, enabled: np.ndarray, colours: np.ndarray, origin: np.ndarray, heading: float,
                 scale: float = 1.0) -> tuple[Hull, ...]:
    """World hulls of a body-frame figure turned by ``heading`` (yaw, 0 = +Z) and placed at ``origin``.

    Parts come back sorted from the back of the figure to its front as seen along its heading,
    which is the painter's order for a viewer in front of it; a figure seen from behind shows its
    back parts last. Figures are static, so the order is fixed at construction.
    """
    s, c = np.sin(heading), np.cos(heading)
    rotation = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])  # body (right, up, forward) -> world
    centres = spheres[:, :3] * scale @ rotation.T + origin
    world = np.concatenate([centres, spheres[:, 3:] * scale], axis=1)
    depth = spheres[_PART_INDEX, 2].mean(axis=1)  # per part (padding repeats a sphere: fine for ordering)
    order = [p for p in np.argsort(depth, kind="stable") if enabled[p]]
    return tuple(Hull(world[list(PART_SPHERES[p])], colours[p]) for p in order)


def paint_figure(image: np.ndarray, spheres: np.ndarray, enabled: np.ndarray, colours: np.ndarray,
                 foot: tuple[float, float], px_per_m: float, shade: float = 0.8) -> None:
    """Paint a front view of a body-frame figure into ``image`` (in place), feet at pixel ``foot``.

    Orthographic: ``x`` to the right, ``y`` up, ``px_per_m`` pixels per metre; parts drawn back to
    front the farthest darkened to ``shade``, so the print looks lit from the front.
    """
    u = foot[0] - spheres[:, 0] * px_per_m  # seen from the front: the figure's right is on the left
    v = foot[1] - spheres[:, 1] * px_per_m
    r = spheres[:, 3] * px_per_m
    ellipses = np.stack([u, v, r, r, np.ones_like(u), np.zeros_like(u)], axis=-1)[None]
    polygons = hull_polygons(ellipses, _PART_INDEX, min_radius=0.5)[0]
    depth = spheres[_PART_INDEX, 2].mean(axis=1)  # per part (padding repeats a sphere: fine for ordering)
    lit = shade + (1.0 - shade) * (depth - depth.min()) / max(float(np.ptp(depth)), 1e-6)
    for p in np.argsort(depth, kind="stable"):
        if enabled[p]:
            factor = lit[p]
            cv2.fillConvexPoly(image, polygons[p], (colours[p] * factor).tolist(), cv2.LINE_AA, SHIFT)
