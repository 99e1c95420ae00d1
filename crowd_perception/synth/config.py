"""Configuration of the synthetic crowd-scene engine: camera, domain appearance, sequences.

A :class:`SynthConfig` is a frozen, plain-data description of a whole dataset split (a preset is
just a named ``SynthConfig``). Everything random is drawn from ranges given here with a seeded
generator, so ``(config, seed)`` determines every pixel and label.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .palette import get_palette

__all__ = ["Range", "CameraConfig", "DomainConfig", "SequenceConfig", "SynthConfig"]

Range = tuple[float, float]
"""Closed interval ``(low, high)`` a value is drawn from uniformly (``low == high`` fixes it)."""


def _check_range(name: str, value: Range, low: float | None = None, high: float | None = None) -> None:
    if len(value) != 2 or value[0] > value[1]:
        raise ValueError(f"{name} must be a (low, high) pair with low <= high, got {value!r}")
    if low is not None and value[0] < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    if high is not None and value[1] > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}")


@dataclass(frozen=True)
class CameraConfig:
    """Vehicle camera: image size, horizontal field of view, mounting height and downward pitch."""

    width: int = 640
    height: int = 360
    hfov_deg: Range = (60.0, 70.0)
    mount_height_m: Range = (1.3, 1.6)
    pitch_deg: Range = (2.0, 6.0)

    def validate(self) -> None:
        if not (16 <= self.width <= 4096 and 16 <= self.height <= 4096):
            raise ValueError(f"image size must be within 16..4096 px, got {self.width}x{self.height}")
        _check_range("hfov_deg", self.hfov_deg, 20.0, 120.0)
        _check_range("mount_height_m", self.mount_height_m, 0.3, 5.0)
        _check_range("pitch_deg", self.pitch_deg, -20.0, 30.0)


@dataclass(frozen=True)
class DomainConfig:
    """Appearance of one domain: palettes, lighting and the camera's image degradations.

    ``palette`` names a colour scheme in :mod:`crowd_perception.synth.palette`; ``jpeg_quality``
    of ``(100, 100)`` disables compression; blur is a Gaussian sigma in pixels at 960 px width
    (scaled with the image width so a domain looks the same at every resolution). ``shadow_length``
    is the length of a person's shadow relative to its height (``1 / tan(sun elevation)``; 0 for an
    overcast sky), the sun's azimuth is drawn per sequence. Lens and motion, also in pixels at 960 px
    width: ``motion_blur_px`` the streak length of the camera's motion during the exposure,
    ``chromatic_aberration_px`` the red/blue separation at the image corners; ``vignetting`` the
    fraction of light lost at the corners.
    """

    name: str = "a"
    camera: CameraConfig = field(default_factory=CameraConfig)
    palette: str = "temperate"
    brightness: Range = (0.85, 1.15)
    shadow_length: Range = (0.0, 1.2)
    blur_sigma: Range = (0.0, 0.6)
    noise_std: Range = (1.0, 3.0)
    jpeg_quality: Range = (85.0, 100.0)
    motion_blur_px: Range = (0.0, 2.0)
    vignetting: Range = (0.0, 0.35)
    chromatic_aberration_px: Range = (0.0, 0.8)

    def validate(self) -> None:
        if self.name not in ("a", "b"):
            raise ValueError(f"domain name must be 'a' or 'b', got {self.name!r}")
        self.camera.validate()
        get_palette(self.palette)
        _check_range("brightness", self.brightness, 0.1, 3.0)
        _check_range("shadow_length", self.shadow_length, 0.0, 5.0)
        _check_range("blur_sigma", self.blur_sigma, 0.0, 10.0)
        _check_range("noise_std", self.noise_std, 0.0, 50.0)
        _check_range("jpeg_quality", self.jpeg_quality, 5.0, 100.0)
        _check_range("motion_blur_px", self.motion_blur_px, 0.0, 30.0)
        _check_range("vignetting", self.vignetting, 0.0, 0.9)
        _check_range("chromatic_aberration_px", self.chromatic_aberration_px, 0.0, 5.0)


@dataclass(frozen=True)
class SequenceConfig:
    """How many sequences of how many frames, and what happens in them.

    ``people`` is the number of pedestrians in the scene region in front of the camera (drawn per
    sequence); ``crossing_fraction`` of them cross the road, ``standing_fraction`` stand,
    ``running_fraction`` run; ``ego_speed_mps`` and ``yaw_rate_dps`` drive the vehicle.
    ``name`` prefixes the sequence names (``{name}_{index:04d}``).
    """

    name: str = "seq"
    count: int = 1
    frames: int = 10
    people: tuple[int, int] = (5, 30)
    max_distance_m: float = 60.0
    crossing_fraction: Range = (0.0, 0.4)
    standing_fraction: Range = (0.0, 0.2)
    running_fraction: Range = (0.0, 0.1)
    ego_speed_mps: Range = (0.0, 6.0)
    yaw_rate_dps: Range = (-3.0, 3.0)
    occluders: tuple[int, int] = (2, 10)

    def validate(self) -> None:
        if not self.name or not all(c.isalnum() or c in "_-" for c in self.name):
            raise ValueError(f"sequence name must be non-empty [A-Za-z0-9_-], got {self.name!r}")
        if self.count < 1 or self.frames < 1:
            raise ValueError(f"{self.name}: count and frames must be >= 1, got {self.count}, {self.frames}")
        if not (0 <= self.people[0] <= self.people[1] <= 200):
            raise ValueError(f"{self.name}: people must be 0 <= low <= high <= 200, got {self.people}")
        if not 10.0 <= self.max_distance_m <= 200.0:
            raise ValueError(f"{self.name}: max_distance_m must be within 10..200, got {self.max_distance_m}")
        for key in ("crossing_fraction", "standing_fraction", "running_fraction"):
            _check_range(f"{self.name}.{key}", getattr(self, key), 0.0, 1.0)
        _check_range(f"{self.name}.ego_speed_mps", self.ego_speed_mps, 0.0, 30.0)
        _check_range(f"{self.name}.yaw_rate_dps", self.yaw_rate_dps, -30.0, 30.0)
        if not 0 <= self.occluders[0] <= self.occluders[1] <= 100:
            raise ValueError(f"{self.name}: occluders must be 0 <= low <= high <= 100, got {self.occluders}")


@dataclass(frozen=True)
class SynthConfig:
    """A dataset split: one domain, a frame rate and a list of sequence groups."""

    name: str
    domain: DomainConfig = field(default_factory=DomainConfig)
    sequences: tuple[SequenceConfig, ...] = (SequenceConfig(),)
    fps: float = 10.0

    def validate(self) -> SynthConfig:
        """Raise ``ValueError`` on anything inconsistent; returns ``self`` for chaining."""
        if not self.name:
            raise ValueError("config name must not be empty")
        if not 0.5 <= self.fps <= 240.0:
            raise ValueError(f"fps must be within 0.5..240, got {self.fps}")
        self.domain.validate()
        if not self.sequences:
            raise ValueError(f"config {self.name!r} has no sequences")
        names = [s.name for s in self.sequences]
        if len(set(names)) != len(names):
            raise ValueError(f"config {self.name!r}: duplicate sequence group names {names}")
        for sequence in self.sequences:
            sequence.validate()
        return self

    @property
    def num_frames(self) -> int:
        return sum(s.count * s.frames for s in self.sequences)

    def with_image_size(self, width: int, height: int) -> SynthConfig:
        """The same split rendered at another resolution."""
        camera = replace(self.domain.camera, width=width, height=height)
        return replace(self, domain=replace(self.domain, camera=camera))

    def with_frames(self, count: int | None = None, frames: int | None = None) -> SynthConfig:
        """The same split with every sequence group resized (``None`` keeps a value)."""
        groups = tuple(
            replace(s, count=s.count if count is None else count, frames=s.frames if frames is None else frames)
            for s in self.sequences
        )
        return replace(self, sequences=groups)
