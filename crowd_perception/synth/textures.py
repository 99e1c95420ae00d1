"""Procedural textures of the street: asphalt and paving, building facades, shop fronts, sky.

Everything here is drawn once per sequence into texture images that the street warps every frame
(:mod:`.world`), so detail costs set-up time, not frame time; buildings and shop fronts, the most
detailed parts, come from a library drawn once per process and cut to size by every street.
Surfaces get multi-octave noise (stains, wear, grain) instead of flat colours; the shop fronts
carry the clutter a street camera sees at pedestrian height and a detector confuses with people:
shop windows with reflections and mannequins behind the glass, posters with people printed on
them, doors, drainpipes, sign boards.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import cv2
import numpy as np

from .figures import make_figure, paint_figure
from .palette import Palette, get_palette, pick_colours

if TYPE_CHECKING:
    from .rig import CameraPose
    from .world import StreetLayout

__all__ = ["Block", "fractal_noise", "ground_texture", "facade_texture", "shopfront_texture", "sky_image",
           "SHOP_HEIGHT", "LIBRARY_SIZE"]

SHOP_HEIGHT = 3.6
"""Metres of facade above the pavement covered by the (finer) shop-front texture."""
LIBRARY_SIZE = 48
"""Buildings and ground floors drawn once per process, palette and resolution (see :func:`_building_library`)."""
_WIDEST = 25.0  # metres: the widest building


@dataclass(frozen=True)
class Block:
    """One building along a facade: ``[z0, z1]`` along the street (texture metres), height, wall colour."""

    z0: float
    z1: float
    height: float
    colour: np.ndarray


def fractal_noise(rng: np.random.Generator, shape: tuple[int, int], cell: float, octaves: int = 4) -> np.ndarray:
    """Zero-mean float32 noise of ``shape`` with features from ``cell`` pixels down, std about 1.

    Octaves of Gaussian noise on coarse grids, each twice as fine and half as strong, upsampled
    bilinearly (value noise); the finest grid is at most half the resolution (grain comes separately).
    """
    height, width = shape
    out = np.zeros(shape, np.float32)
    amplitude, total = 1.0, 0.0
    for octave in range(octaves):
        size = cell / 2**octave
        if size < 2.0:
            break
        grid = rng.standard_normal((max(2, int(height / size) + 2), max(2, int(width / size) + 2)), dtype=np.float32)
        out += np.float32(amplitude) * cv2.resize(grid, (width, height), interpolation=cv2.INTER_LINEAR)
        total += amplitude**2
        amplitude *= 0.5
    return out / np.float32(max(np.sqrt(total), 1e-6) * 0.6)


def _grain(rng: np.random.Generator, shape: tuple[int, int], std: float) -> np.ndarray:
    """Fine texture grain: Gaussian noise drawn at half resolution and upsampled (4x fewer samples)."""
    small = rng.standard_normal(((shape[0] + 1) // 2, (shape[1] + 1) // 2), dtype=np.float32) * np.float32(std)
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


# --- ground -----------------------------------------------------------------------------------


def ground_texture(rng: np.random.Generator, palette: Palette, layout: StreetLayout, res: tuple[float, float]
                   ) -> tuple[np.ndarray, float]:
    """BGR float32 ground texture (rows along ``Z`` from ``z_start``, columns along ``X``) and its ``x`` origin.

    Asphalt with patches, wear and cracks; paving slabs of varying tone; kerbs; worn lane
    markings, a zebra crossing and manhole covers.
    """
    rx, rz = res
    x_lo = -layout.facade_x - 0.5
    width = int(np.ceil(2 * (layout.facade_x + 0.5) * rx))
    length = int(np.ceil((layout.z_end - layout.z_start) * rz))
    xs = x_lo + np.arange(width) / rx
    zs = layout.z_start + np.arange(length) / rz
    on_road = np.abs(xs) <= layout.road_half
    road = pick_colours(rng, palette.road, 1, 3)[0]
    pave = pick_colours(rng, palette.pavement, 1, 8)[0]
    tex = np.where(on_road[None, :, None], road, pave).astype(np.float32)
    tex = np.broadcast_to(tex, (length, width, 3)).copy()
    tone = 1.0 + 0.07 * fractal_noise(rng, (length, width), 6.0 * rx)
    # Paving slabs: a tone per slab and darker seams.
    slab_x, slab_z = rng.uniform(0.5, 1.0), rng.uniform(0.5, 1.2)
    ix, iz = np.floor(xs / slab_x).astype(int), np.floor(zs / slab_z).astype(int)
    slab_tone = rng.normal(1.0, 0.05, (iz.max() - iz.min() + 1, ix.max() - ix.min() + 1)).astype(np.float32)
    slabs = slab_tone[(iz - iz.min())[:, None], (ix - ix.min())[None, :]]
    seams = (np.mod(zs, slab_z) < 1.0 / rz)[:, None] | (np.mod(xs, slab_x) < 1.0 / rx)[None, :]
    tone = np.where(on_road[None, :], tone, tone * slabs * np.where(seams, 0.82, 1.0))
    tex *= tone[..., None]
    tex += _grain(rng, (length, width), 7.0)[..., None]
    _road_patches(rng, tex, xs, zs, layout, res)
    kerb = np.abs(np.abs(xs) - layout.road_half) < 0.15
    tex[:, kerb] = 0.5 * tex[:, kerb] + 0.5 * 190.0
    # Markings, worn: blended towards white by a noisy coverage.
    paint = np.zeros((length, width), np.float32)
    paint[np.ix_(np.mod(zs, 9.0) < 3.0, np.abs(xs) < 0.08)] = 1.0  # dashed centre line
    edge = np.abs(np.abs(xs) - (layout.road_half - 0.3)) < 0.07
    paint[:, edge] = 1.0
    zebra = np.abs(zs - layout.crossing_z) < 2.0
    paint[np.ix_(zebra, on_road & (np.mod(xs, 1.0) < 0.5) & ~edge)] = 1.0
    paint *= np.clip(0.85 + 0.25 * fractal_noise(rng, (length, width), 2.0 * rx, 2), 0.3, 1.0)
    tex += paint[..., None] * (np.float32(225.0) - tex)
    return tex, x_lo


def _road_patches(rng: np.random.Generator, tex: np.ndarray, xs: np.ndarray, zs: np.ndarray, layout: StreetLayout,
                  res: tuple[float, float]) -> None:
    """Repaired asphalt rectangles, manhole covers and cracks on the road (in place)."""
    rx, rz = res
    half = layout.road_half

    def col(x: float) -> int:
        return int((x - xs[0]) * rx)

    def row(z: float) -> int:
        return int((z - zs[0]) * rz)

    span = zs[-1] - zs[0]
    for _ in range(int(span / 15)):
        x0, z0 = rng.uniform(-half, half - 1.0), rng.uniform(zs[0], zs[-1])
        w, length = rng.uniform(0.8, 3.5), rng.uniform(1.0, 8.0)
        tex[row(z0) : row(z0 + length), col(x0) : col(min(x0 + w, half))] *= np.float32(rng.uniform(0.8, 1.12))
    for _ in range(int(span / 25)):
        centre = (col(rng.uniform(-half + 1.0, half - 1.0)), row(rng.uniform(zs[0], zs[-1])))
        axes = (int(0.35 * rx), int(0.35 * rz))
        cv2.ellipse(tex, centre, axes, 0, 0, 360, (45.0, 47.0, 50.0), -1)
        cv2.ellipse(tex, centre, axes, 0, 0, 360, (75.0, 77.0, 80.0), 1)
    for _ in range(int(span / 10)):
        points = np.cumsum(rng.normal(0.0, 1.0, (6, 2)) * (0.4 * rx, 0.8 * rz), axis=0)
        points += (col(rng.uniform(-half, half)), row(rng.uniform(zs[0], zs[-1])))
        cv2.polylines(tex, [points.astype(np.int32)], False, (35.0, 35.0, 38.0), 1)


# --- facades ----------------------------------------------------------------------------------


def facade_texture(rng: np.random.Generator, palette: Palette, layout: StreetLayout, res: float, max_height: float
                   ) -> tuple[np.ndarray, list[Block], float]:
    """Upper facade of one side (rows from ``max_height`` down, columns along ``Z``), its buildings and the
    height of its bottom row.

    Buildings of varied width and height, each cut from a library building (:func:`_building_library`)
    at a random offset, then weathered from the roof down as one wall. The texture stops two texels
    below :data:`SHOP_HEIGHT`, where :func:`shopfront_texture` takes over (the overlap leaves no gap
    between the two planes).
    """
    length = int(np.ceil((layout.z_end - layout.z_start) * res))
    height = int((max_height - SHOP_HEIGHT) * res) + 2
    bottom = max_height - (height - 1) / res
    library = _building_library(palette.name, res, max_height)
    tex = np.zeros((height, length, 3), np.float32)
    blocks: list[Block] = []
    z, total = 0.0, layout.z_end - layout.z_start
    while z < total:
        w, h = rng.uniform(8.0, _WIDEST), rng.uniform(7.0, max_height - 1.0)
        c0, c1 = int(z * res), min(int((z + w) * res), length)
        top = max(0, height - 1 - int((h - bottom) * res))
        entry, colour = library[int(rng.integers(len(library)))]
        offset = int(rng.integers(0, entry.shape[1] - (c1 - c0) + 1))
        block = tex[top:, c0:c1]
        block[:] = entry[top:, offset : offset + c1 - c0]
        block[:3] *= 0.7  # roof edge
        blocks.append(Block(c0 / res, (c1 - 1) / res, max_height - (top + 0.5) / res, colour))
        z += w + (rng.uniform(0.0, 4.0) if rng.random() < 0.25 else 0.0)
    # Weathering: stains that grow towards the ground, and grain.
    rows = np.linspace(0.6, 1.0, height, dtype=np.float32)[:, None]
    tex *= (1.0 + 0.06 * fractal_noise(rng, (height, length), 4.0 * res) * rows)[..., None]
    tex += _grain(rng, (height, length), 5.0)[..., None]
    return tex, blocks, bottom


def _library_rng(palette_name: str, kind: int, index: int) -> np.random.Generator:
    """The generator of library item ``index`` of ``kind``: the same in every process and sequence."""
    return np.random.default_rng([zlib.crc32(palette_name.encode("utf-8")), kind, index])


@cache
def _building_library(palette_name: str, res: float, max_height: float) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """:data:`LIBRARY_SIZE` full-height buildings :data:`_WIDEST` metres wide (uint8 texture, wall colour) of a palette.

    Drawing a facade costs more than warping it for a whole sequence; buildings are drawn once per
    process (each from its own seed, so the library is the same everywhere) and every street cuts
    its buildings out of them at random widths, heights and offsets.
    """
    palette = get_palette(palette_name)
    height = int((max_height - SHOP_HEIGHT) * res) + 2
    bottom = max_height - (height - 1) / res
    items = []
    for index in range(LIBRARY_SIZE):
        rng = _library_rng(palette_name, 1, index)
        colour = pick_colours(rng, palette.facades, 1, 10)[0]
        tex = np.zeros((height, int(_WIDEST * res) + 4, 3), np.float32)
        _building(rng, palette, tex, colour, res, bottom)
        items.append((np.clip(tex, 0, 255).astype(np.uint8), colour))  # a quarter of the memory of floats
    return tuple(items)


def _building(rng: np.random.Generator, palette: Palette, block: np.ndarray, colour: np.ndarray, res: float,
              bottom: float) -> None:
    """Wall material, windows and pipes of one building into its texture view ``block`` (in place);
    its last row is ``bottom`` metres above the ground."""
    rows, cols = block.shape[:2]
    block[:] = colour
    height_m = bottom + (rows - 1 - np.arange(rows)) / res  # metres above the ground
    along = np.arange(cols) / res
    material = rng.choice(3, p=[0.45, 0.35, 0.2])  # plaster, brick, panels
    if material == 1:
        block[np.mod(np.arange(rows), 3) == 0] *= 0.86
    elif material == 2:
        panel = rng.uniform(1.2, 2.0)
        block[:, np.mod(along, panel) < 1.0 / res] *= 0.8
    floor_h, win_w, spacing = rng.uniform(2.8, 3.5), rng.uniform(0.9, 1.6), rng.uniform(2.2, 3.5)
    level = np.mod(height_m, floor_h)
    block[(level < 1.0 / res) & (height_m > SHOP_HEIGHT)] *= 0.72  # cornice at every storey
    win_rows = (level > 0.9) & (level < 2.3) & (height_m > SHOP_HEIGHT)
    win_cols = np.mod(along - 0.5 * spacing, spacing) < win_w
    frame = pick_colours(rng, palette.facades, 1, 10)[0] * 1.15
    block[np.ix_(win_rows, win_cols)] = np.clip(frame, 0, 255)
    inner_rows = (level > 0.9 + 1.0 / res) & (level < 2.3 - 1.0 / res) & (height_m > SHOP_HEIGHT)
    inner_cols = win_cols & (np.mod(along - 0.5 * spacing - 1.0 / res, spacing) < win_w - 2.0 / res)
    glass = pick_colours(rng, palette.windows, 1, 10)[0]
    # Glass: darker at the bottom (the room), brighter at the top (reflected sky); some lit, some blinds.
    r_in, c_in = np.flatnonzero(inner_rows), np.flatnonzero(inner_cols)
    if len(r_in) and len(c_in):
        shade = (0.85 + 0.35 * np.mod(level[r_in] - 0.9, 1.4) / 1.4).astype(np.float32)
        window_ids = (np.floor((along[c_in] - 0.5 * spacing) / spacing).astype(int)[None, :] * 97
                      + np.floor(height_m[r_in] / floor_h).astype(int)[:, None])
        looks = rng.random(window_ids.max() - window_ids.min() + 1)
        look = looks[window_ids - window_ids.min()][..., None]  # a random number per window
        lit, blind = np.array([120.0, 190.0, 230.0]), colour * 0.5 + 110.0
        pane = np.where(look < 0.08, lit, np.where(look > 0.85, blind, glass))
        block[np.ix_(r_in, c_in)] = pane * shade[:, None, None]
    block[np.ix_((level > 0.75) & (level < 0.9) & (height_m > SHOP_HEIGHT), win_cols)] = np.clip(colour * 1.2, 0, 255)
    for _ in range(int(rng.integers(0, 3))):  # drainpipes
        c = int(rng.uniform(0.0, cols))
        block[:, c : c + max(1, int(0.1 * res))] = (60.0, 62.0, 66.0)


def shopfront_texture(rng: np.random.Generator, palette: Palette, blocks: list[Block], length_m: float, res: float
                      ) -> np.ndarray:
    """Ground floor (``SHOP_HEIGHT`` metres, rows top-down) of one side's buildings, at ``res`` pixels per metre.

    Each building gets a library ground floor (:func:`_shop_library`): a run of shops (sign board,
    display windows, mannequins behind the glass, a door) or a plain wall with a door and posters
    printed with people. The street then adds its own reflections on the glass, stains and grain.
    """
    rows, cols = int(SHOP_HEIGHT * res), int(np.ceil(length_m * res))
    library = _shop_library(palette.name, res)
    tex = np.zeros((rows, cols, 3), np.float32)
    glass = np.zeros((rows, cols), np.float32)  # 1 on display-window panes
    for block in blocks:
        c0, c1 = int(block.z0 * res), min(int(block.z1 * res) + 1, cols)
        entry, panes = library[int(rng.integers(len(library)))]
        tex[:, c0:c1] = entry[:, : c1 - c0]  # shops start at the building's left end
        glass[:, c0:c1] = panes[:, : c1 - c0]
    _reflections(rng, tex, glass, res)
    stains = fractal_noise(rng, (rows, cols), 0.8 * res, 3)
    tex *= (1.0 + 0.05 * stains * (1.0 - glass))[..., None]
    tex += _grain(rng, (rows, cols), 4.0)[..., None]
    return tex


@cache
def _shop_library(palette_name: str, res: float) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """:data:`LIBRARY_SIZE` ground floors :data:`_WIDEST` metres wide (uint8 texture, window-pane mask) of a palette,
    drawn once per process like :func:`_building_library`."""
    palette = get_palette(palette_name)
    rows, cols = int(SHOP_HEIGHT * res), int(_WIDEST * res) + 4
    items = []
    for index in range(LIBRARY_SIZE):
        rng = _library_rng(palette_name, 2, index)
        tex = np.zeros((rows, cols, 3), np.float32)
        glass = np.zeros((rows, cols), np.float32)
        tex[:] = np.clip(pick_colours(rng, palette.facades, 1, 15)[0] * rng.uniform(0.7, 1.0), 0, 255)
        if rng.random() < 0.75:
            _shops(rng, palette, tex, fractal_noise(rng, (rows, cols), 0.8 * res, 3), glass, res)
        else:
            _wall_with_posters(rng, palette, tex, res)
        items.append((np.clip(tex, 0, 255).astype(np.uint8), glass > 0))
    return tuple(items)


def _reflections(rng: np.random.Generator, tex: np.ndarray, glass: np.ndarray, res: float) -> None:
    """Blend the window panes towards white (in place): the sky reflected near their top and bright
    diagonal bands of the street behind the camera."""
    panes = np.flatnonzero(glass.any(axis=1))
    if not len(panes):
        return
    r0, r1 = panes[0], panes[-1] + 1
    v = np.arange(r1 - r0, dtype=np.float32)[:, None]
    u = np.arange(tex.shape[1], dtype=np.float32)[None, :]
    sky = 0.35 * np.clip(1.0 - v / (0.6 * (r1 - r0)), 0.0, 1.0)
    period, slope = rng.uniform(0.8, 2.5) * res, rng.uniform(0.3, 1.2)
    bands = 0.25 * np.clip(np.sin((u + slope * v) * np.float32(2 * np.pi / period)) * 2.0 - 1.0, 0.0, 1.0)
    alpha = ((sky + bands) * glass[r0:r1])[..., None]
    band = tex[r0:r1]
    band += alpha * (np.float32(225.0) - band)


def _m(value: float, res: float) -> int:
    return round(value * res)


def _shops(rng: np.random.Generator, palette: Palette, view: np.ndarray, clutter: np.ndarray, glass: np.ndarray,
           res: float) -> None:
    """Shop units along a building: sign band, display window (its panes marked in ``glass``), door (in place)."""
    rows, cols = view.shape[:2]
    floor = rows  # texture row of the pavement
    unit_start = 0
    while unit_start < cols - _m(2.0, res):
        unit = min(_m(rng.uniform(3.5, 7.0), res), cols - unit_start)
        u0, u1 = unit_start + _m(0.3, res), unit_start + unit - _m(0.3, res)  # pillars between units
        sign = np.clip(pick_colours(rng, palette.tops, 1, 20)[0], 0, 255)
        sign_top, sign_bottom = floor - _m(3.4, res), floor - _m(2.8, res)
        view[sign_top:sign_bottom, u0:u1] = sign
        _lettering(rng, view[sign_top:sign_bottom, u0:u1], sign)
        door_w = _m(1.1, res)
        door_at = u0 if rng.random() < 0.5 else u1 - door_w
        win0, win1 = (u0 + door_w + _m(0.15, res), u1) if door_at == u0 else (u0, u1 - door_w - _m(0.15, res))
        glass_top, glass_bottom = floor - _m(2.65, res), floor - _m(0.4, res)
        if win1 - win0 > _m(1.0, res):
            window = view[glass_top:glass_bottom, win0:win1]
            pane = glass[glass_top:glass_bottom, win0:win1]
            _display_window(rng, palette, window, clutter[glass_top:glass_bottom, win0:win1], pane, res)
        view[floor - _m(2.4, res) : floor, door_at : door_at + door_w] = pick_colours(rng, palette.windows, 1, 10)[0] * 0.6
        if rng.random() < 0.3:  # awning: stripes over the window
            awning = view[sign_bottom : sign_bottom + _m(0.45, res), u0:u1]
            stripe = (np.arange(awning.shape[1]) // max(1, _m(0.25, res))) % 2 == 0
            awning[:] = np.where(stripe[:, None], sign, 235.0)
        unit_start += unit


def _lettering(rng: np.random.Generator, band: np.ndarray, colour: np.ndarray) -> None:
    """Marks like letters on a sign band (in place): a row of small dark or light rectangles."""
    rows, cols = band.shape[:2]
    ink = np.where(colour.mean() > 128, 30.0, 235.0)
    x = int(rng.uniform(0.1, 0.3) * cols)
    end = int(rng.uniform(0.6, 0.9) * cols)
    glyph_h = max(2, int(0.55 * rows))
    y0 = (rows - glyph_h) // 2
    while x < end:
        w = int(rng.integers(max(2, glyph_h // 3), max(3, glyph_h)))
        band[y0 : y0 + glyph_h, x : x + w] = ink
        x += w + max(1, glyph_h // 4)


def _display_window(rng: np.random.Generator, palette: Palette, window: np.ndarray, clutter: np.ndarray,
                    pane: np.ndarray, res: float) -> None:
    """Shop window (in place): dim interior (``clutter``: noise of its size) with shelves and mannequins,
    and mullions; ``pane`` (same size) is set to 1 on the glass, which gets reflections later."""
    rows, cols = window.shape[:2]
    interior = pick_colours(rng, palette.windows, 1, 12)[0] * rng.uniform(0.8, 1.5)
    window[:] = interior * (1.0 + 0.25 * clutter)[..., None]
    for shelf in range(int(rng.integers(0, 4))):
        r = rows - _m(0.5 + 0.45 * shelf, res)
        window[r : r + 2] = np.clip(interior * 1.8, 0, 255)
    count = int(rng.integers(0, 4)) if rng.random() < 0.55 else 0
    for i in range(count):  # mannequins standing on the display floor
        style = "mannequin" if rng.random() < 0.6 else "clothed"
        spheres, enabled, colours = make_figure(rng, palette, style)
        x = (i + 0.5 + rng.uniform(-0.2, 0.2)) * cols / count
        paint_figure(window, spheres, enabled, colours, (x, rows - 1.0), res * rng.uniform(0.95, 1.05))
    pane[:] = 1.0
    for c in range(0, cols, max(1, _m(rng.uniform(1.2, 2.5), res))):  # mullions
        window[:, c : c + 2] = 40.0
        pane[:, c : c + 2] = 0.0


def _wall_with_posters(rng: np.random.Generator, palette: Palette, view: np.ndarray, res: float) -> None:
    """Plain ground floor (in place): a door and framed posters printed with people."""
    rows, cols = view.shape[:2]
    door = int(rng.uniform(0.1, 0.8) * cols)
    view[rows - _m(2.3, res) :, door : door + _m(1.0, res)] = pick_colours(rng, palette.windows, 1, 10)[0] * 0.5
    x = _m(rng.uniform(0.3, 1.5), res)
    while x < cols - _m(1.4, res):
        width, height = _m(rng.uniform(0.9, 1.3), res), _m(rng.uniform(1.5, 2.0), res)
        if rng.random() < 0.6 and not (door - width < x < door + _m(1.0, res)):
            _poster(rng, palette, view[rows - _m(0.4, res) - height : rows - _m(0.4, res), x : x + width], res)
        x += width + _m(rng.uniform(0.5, 2.5), res)


def _poster(rng: np.random.Generator, palette: Palette, area: np.ndarray, res: float) -> None:
    """A framed print of one or two people, life size or larger, on a coloured backdrop (in place)."""
    area[:] = 35.0  # frame
    inner = area[2:-2, 2:-2]
    top, bottom = pick_colours(rng, palette.tops, 2, 30)
    t = np.linspace(0.0, 1.0, inner.shape[0], dtype=np.float32)[:, None, None]
    inner[:] = (1 - t) * top + t * bottom
    count = 1 if rng.random() < 0.7 else 2
    scale = rng.uniform(0.7, 1.6)  # close-ups are cropped at the frame
    for i in range(count):
        spheres, enabled, colours = make_figure(rng, palette, "clothed", gait=rng.choice([0, 1]))
        foot = ((i + 0.5) * inner.shape[1] / count, inner.shape[0] * (0.98 if scale < 1.0 else 1.25))
        paint_figure(inner, spheres, enabled, colours, foot, res * scale)


# --- sky --------------------------------------------------------------------------------------


def sky_image(rng: np.random.Generator, palette: Palette, pose: CameraPose) -> np.ndarray:
    """BGR uint8 sky for the camera: zenith-to-horizon gradient with soft clouds (none to overcast).

    Drawn at a quarter of the resolution and upsampled: a sky has no detail finer than that.
    """
    k = pose.intrinsics
    top = pick_colours(rng, palette.sky_top, 1, 8)[0]
    horizon_colour = pick_colours(rng, palette.sky_horizon, 1, 8)[0]
    # Horizon row: image of a far point straight ahead at camera height.
    far = pose.to_camera(pose.centre + np.array([0.0, 0.0, 1e4]))
    horizon = float(np.clip(k.fy * far[1] / far[2] + k.cy, 1.0, k.height - 1.0))
    small = (max(2, k.height // 4), max(2, k.width // 4))
    rows = (np.arange(small[0], dtype=np.float32) + 0.5) * (k.height / small[0])
    t = np.clip(rows / horizon, 0.0, 1.0)[:, None, None]
    sky = (1 - t) * top + t * horizon_colour
    clouds = fractal_noise(rng, small, small[1] / 3.0, 4)
    cover = rng.uniform(-0.8, 1.2)
    alpha = np.clip(0.5 * (clouds + cover), 0.0, 0.9)[..., None] * (1.0 - 0.6 * t)
    sky = sky + alpha * (np.float32(rng.uniform(190.0, 245.0)) - sky)
    return cv2.resize(np.clip(sky, 0, 255).astype(np.uint8), (k.width, k.height), interpolation=cv2.INTER_LINEAR)
