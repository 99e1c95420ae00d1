"""Colour schemes (BGR) of the two domains: clothing, skin, hair, street surfaces, facades, sky.

A palette is a set of base colours; the engine draws from it and jitters every colour a little,
so identities differ while a domain keeps its overall look.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Palette", "PALETTES", "get_palette", "pick_colours"]


def _bgr(*hex_rgb: str) -> np.ndarray:
    """``"#rrggbb"`` strings -> ``(N, 3)`` float BGR."""
    rgb = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in hex_rgb], dtype=np.float32)
    return rgb[:, ::-1].copy()


@dataclass(frozen=True)
class Palette:
    """Base colours of one domain (each an ``(N, 3)`` float BGR array) and the sky gradient."""

    name: str
    tops: np.ndarray
    bottoms: np.ndarray
    shoes: np.ndarray
    skin: np.ndarray
    hair: np.ndarray
    facades: np.ndarray
    windows: np.ndarray
    road: np.ndarray
    pavement: np.ndarray
    sky_top: np.ndarray
    sky_horizon: np.ndarray
    vehicles: np.ndarray
    furniture: np.ndarray


_SKIN = _bgr("#f1c27d", "#e0ac69", "#c68642", "#8d5524", "#ffdbac", "#5c3a1e", "#d9a066")
_HAIR = _bgr("#2c1b10", "#090806", "#71635a", "#b7a69e", "#a56b46", "#e6cea8", "#3b3024", "#4e433f")

PALETTES: dict[str, Palette] = {
    # Domain a: muted northern-European street in daylight.
    "temperate": Palette(
        name="temperate",
        tops=_bgr("#2f3e4e", "#5b6770", "#8c1c13", "#1f2a44", "#d9d9d9", "#3d5a40", "#6b4f3a", "#202020",
                  "#a3a3a3", "#4a6fa5", "#7a2e4d", "#c2a878"),
        bottoms=_bgr("#1b1f2a", "#2d2d2d", "#3c4a5c", "#4d4033", "#5e5e5e", "#23395b", "#111111", "#6d6552"),
        shoes=_bgr("#111111", "#3a2b20", "#e8e8e8", "#222833", "#5a4a3a"),
        skin=_SKIN,
        hair=_HAIR,
        facades=_bgr("#b8a68f", "#9c8f80", "#c9c1b5", "#8a6f5a", "#a7a9ac", "#d2c4a0", "#7d7468", "#b58a6a"),
        windows=_bgr("#3a4652", "#2b3540", "#56636e", "#404a4f"),
        road=_bgr("#5a5c5e", "#4f5153", "#666666"),
        pavement=_bgr("#9a9690", "#a8a39b", "#8c8a85"),
        sky_top=_bgr("#6f95c4", "#8fa9c8", "#9aa7b4"),
        sky_horizon=_bgr("#cfdbe6", "#d9dde2", "#c4ccd4"),
        vehicles=_bgr("#c0c0c0", "#1c1c1c", "#f2f2f2", "#2b3a55", "#7b1d1d", "#4b5a3a", "#8a8d91"),
        furniture=_bgr("#3c3f41", "#2e4a35", "#5a5a5a", "#6b5a3c"),
    ),
    # Domain b: saturated, warmer southern street under evening light.
    "vivid": Palette(
        name="vivid",
        tops=_bgr("#e63946", "#f4a261", "#2a9d8f", "#e9c46a", "#264653", "#ff006e", "#8338ec", "#3a86ff",
                  "#fb5607", "#ffffff", "#06d6a0", "#ffd166"),
        bottoms=_bgr("#14213d", "#3d405b", "#e5e5e5", "#6d597a", "#355070", "#b56576", "#222222", "#81b29a"),
        shoes=_bgr("#ffffff", "#d62828", "#111111", "#f77f00", "#003049"),
        skin=_SKIN,
        hair=_HAIR,
        facades=_bgr("#e9d8a6", "#ee9b00", "#ca6702", "#f4f1de", "#e07a5f", "#d4a373", "#faedcd", "#b5838d"),
        windows=_bgr("#1d3557", "#2a2a3a", "#3d2c2e", "#14213d"),
        road=_bgr("#3b3b44", "#45434a", "#35353d"),
        pavement=_bgr("#c9b79c", "#bfa888", "#d6c6a8"),
        sky_top=_bgr("#355c7d", "#6c5b7b", "#4a6fa5"),
        sky_horizon=_bgr("#f8b195", "#f67280", "#ffcb8e"),
        vehicles=_bgr("#ffbe0b", "#fb5607", "#ffffff", "#3a86ff", "#111111", "#8ac926"),
        furniture=_bgr("#1b4332", "#6a040f", "#403d39", "#274c77"),
    ),
}


def get_palette(name: str) -> Palette:
    """Palette by name with a clear error listing the known ones."""
    try:
        return PALETTES[name]
    except KeyError:
        raise ValueError(f"unknown palette {name!r}; known: {sorted(PALETTES)}") from None


def pick_colours(rng: np.random.Generator, base: np.ndarray, n: int, jitter: float = 18.0) -> np.ndarray:
    """``n`` colours drawn from ``base`` with a per-channel jitter, as ``(n, 3)`` float BGR in [0, 255]."""
    colours = base[rng.integers(0, len(base), size=n)] + rng.normal(0.0, jitter, size=(n, 3))
    return np.clip(colours, 0.0, 255.0)
