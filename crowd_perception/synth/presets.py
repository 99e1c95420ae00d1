"""Named dataset splits: ``demo``, ``train_a``/``val_a``, ``train_b``/``val_b`` and ``bench``.

Domain ``a``: a car camera (1.3-1.6 m high, 60-70 deg FOV, little pitch), muted palette, sharp and
clean images, high sun or overcast. Domain ``b``: a van/bus camera (2.0-2.6 m high, 80-95 deg FOV,
pitched down more), vivid palette under warm evening light with long shadows, stronger blur,
noise and JPEG compression, more motion blur, vignetting and chromatic aberration. Every split has
the same street furniture and hard negatives (:mod:`.clutter`: lamp posts, trees, bikes, posters
printed with people, mannequins, statues; shop windows with mannequins in the facades). Train and
val splits share a domain but never scenes (the seed is salted with the split name).
"""

from __future__ import annotations

from dataclasses import replace

from .config import CameraConfig, DomainConfig, SequenceConfig, SynthConfig

__all__ = ["DOMAINS", "PRESETS", "get_preset", "BENCH_DENSITIES"]

DOMAINS: dict[str, DomainConfig] = {
    "a": DomainConfig(
        name="a",
        camera=CameraConfig(width=640, height=360, hfov_deg=(60.0, 70.0), mount_height_m=(1.3, 1.6),
                            pitch_deg=(1.0, 5.0)),
        palette="temperate",
        brightness=(0.9, 1.15),
        shadow_length=(0.0, 1.2),
        blur_sigma=(0.0, 0.5),
        noise_std=(0.5, 2.0),
        jpeg_quality=(90.0, 100.0),
        motion_blur_px=(0.0, 1.5),
        vignetting=(0.05, 0.3),
        chromatic_aberration_px=(0.0, 0.6),
    ),
    "b": DomainConfig(
        name="b",
        camera=CameraConfig(width=640, height=360, hfov_deg=(80.0, 95.0), mount_height_m=(2.0, 2.6),
                            pitch_deg=(6.0, 11.0)),
        palette="vivid",
        brightness=(0.6, 0.9),
        shadow_length=(1.0, 2.5),
        blur_sigma=(0.8, 1.6),
        noise_std=(4.0, 8.0),
        jpeg_quality=(40.0, 70.0),
        motion_blur_px=(0.5, 3.0),
        vignetting=(0.15, 0.45),
        chromatic_aberration_px=(0.3, 1.2),
    ),
}

_STREET = SequenceConfig(name="street", count=1, frames=10, people=(0, 100), max_distance_m=70.0,
                         crossing_fraction=(0.0, 0.5), ego_speed_mps=(0.0, 8.0), yaw_rate_dps=(-4.0, 4.0),
                         occluders=(6, 22))

# Bench: fixed sequences at four crowd densities (people in the region in front of the camera).
BENCH_DENSITIES: dict[str, tuple[int, int]] = {
    "sparse": (6, 6),
    "medium": (25, 25),
    "dense": (52, 52),
    "very_dense": (90, 90),
}


def _split(name: str, domain: str, count: int, frames: int) -> SynthConfig:
    return SynthConfig(name=name, domain=DOMAINS[domain], sequences=(replace(_STREET, count=count, frames=frames),),
                       fps=10.0)


def _demo() -> SynthConfig:
    domain = replace(DOMAINS["a"], camera=replace(DOMAINS["a"].camera, width=480, height=270))
    street = SequenceConfig(name="street", count=1, frames=60, people=(14, 14), crossing_fraction=(0.3, 0.3),
                            standing_fraction=(0.1, 0.1), running_fraction=(0.05, 0.05), ego_speed_mps=(2.0, 2.0),
                            yaw_rate_dps=(1.5, 1.5), occluders=(12, 12))
    return SynthConfig(name="demo", domain=domain, sequences=(street,), fps=10.0)


def _bench() -> SynthConfig:
    domain = replace(DOMAINS["a"], camera=replace(DOMAINS["a"].camera, width=960, height=540))
    groups = tuple(
        SequenceConfig(name=density, count=2, frames=50, people=people, crossing_fraction=(0.25, 0.25),
                       standing_fraction=(0.1, 0.1), running_fraction=(0.05, 0.05), ego_speed_mps=(0.0, 5.0),
                       yaw_rate_dps=(-2.0, 2.0), occluders=(12, 12))
        for density, people in BENCH_DENSITIES.items()
    )
    return SynthConfig(name="bench", domain=domain, sequences=groups, fps=10.0)


PRESETS: dict[str, SynthConfig] = {
    "demo": _demo(),
    "train_a": _split("train_a", "a", count=400, frames=10),
    "val_a": _split("val_a", "a", count=40, frames=10),
    "train_b": _split("train_b", "b", count=400, frames=10),
    "val_b": _split("val_b", "b", count=40, frames=10),
    "bench": _bench(),
}


def get_preset(name: str) -> SynthConfig:
    """Preset by name, with a clear error listing the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown synth preset {name!r}; known: {sorted(PRESETS)}") from None
