"""Static objects of a street: unions of axis-aligned cuboids and sphere hulls, with a ground footprint.

Cuboids make cars, poles, bins and boards; sphere hulls (see :mod:`.hulls`) make round or
person-shaped things (tree crowns, mannequins, statues, figures printed on posters). Both are
drawn by the rasteriser as one object code, so whatever they cover is labelled as hidden by an
object, and nothing of them is ever labelled as a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

import numpy as np

from .hulls import padded_index

__all__ = ["Cuboid", "Hull", "Occluder", "box"]


@dataclass(frozen=True)
class Cuboid:
    """Axis-aligned box ``[x0, x1] x [y0, y1] x [z0, z1]`` with a BGR colour."""

    lo: np.ndarray
    hi: np.ndarray
    colour: np.ndarray

    NORMALS = np.array([[-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0], [0, 0, -1], [0, 0, 1]], dtype=float)
    """Outward normals of the faces, in the order of :meth:`faces`."""

    def faces(self) -> tuple[np.ndarray, np.ndarray]:
        """``(6, 4, 3)`` face corners and ``(6, 3)`` outward normals."""
        (x0, y0, z0), (x1, y1, z1) = self.lo, self.hi
        corners = np.array(
            [
                [[x0, y0, z0], [x0, y1, z0], [x0, y1, z1], [x0, y0, z1]],  # -X
                [[x1, y0, z0], [x1, y0, z1], [x1, y1, z1], [x1, y1, z0]],  # +X
                [[x0, y0, z0], [x1, y0, z0], [x1, y0, z1], [x0, y0, z1]],  # -Y
                [[x0, y1, z0], [x0, y1, z1], [x1, y1, z1], [x1, y1, z0]],  # +Y
                [[x0, y0, z0], [x0, y1, z0], [x1, y1, z0], [x1, y0, z0]],  # -Z
                [[x0, y0, z1], [x1, y0, z1], [x1, y1, z1], [x0, y1, z1]],  # +Z
            ]
        )
        return corners, self.NORMALS


@dataclass(frozen=True)
class Hull:
    """Convex hull of spheres ``(K, 4)`` (world centres and radii, metres) in one BGR colour."""

    spheres: np.ndarray
    colour: np.ndarray


def box(x: float, z: float, size: tuple[float, float, float], y0: float, colour: np.ndarray) -> Cuboid:
    """Cuboid of ``size`` (x, y, z extents) centred on ``(x, z)`` with its bottom at height ``y0``."""
    sx, sy, sz = size
    return Cuboid(np.array([x - sx / 2, y0, z - sz / 2]), np.array([x + sx / 2, y0 + sy, z + sz / 2]),
                  np.asarray(colour, dtype=float))


@dataclass(frozen=True)
class Occluder:
    """A static object: at least one cuboid, then hulls, drawn in that order; ground footprint ``(x0, x1, z0, z1)``."""

    kind: str
    cuboids: tuple[Cuboid, ...]
    footprint: np.ndarray
    hulls: tuple[Hull, ...] = ()

    @cached_property
    def corners(self) -> np.ndarray:
        """``(C, 6, 4, 3)`` face corners of every cuboid (normals: ``Cuboid.NORMALS``)."""
        return np.stack([c.faces()[0] for c in self.cuboids])

    @cached_property
    def colours(self) -> np.ndarray:
        """``(C, 3)`` BGR colour of every cuboid."""
        return np.stack([c.colour for c in self.cuboids])

    @cached_property
    def hull_spheres(self) -> np.ndarray:
        """``(S, 4)`` all hull spheres, concatenated in hull order."""
        return np.concatenate([h.spheres for h in self.hulls]) if self.hulls else np.zeros((0, 4))

    @cached_property
    def hull_index(self) -> np.ndarray:
        """``(H, K)`` rows of :attr:`hull_spheres` of every hull (:func:`~.hulls.padded_index`)."""
        starts = np.cumsum([0] + [len(h.spheres) for h in self.hulls])
        return padded_index(tuple(tuple(range(a, b)) for a, b in pairwise(starts.tolist())))
