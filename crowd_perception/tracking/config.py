"""Tracker configuration and the named profiles ``jde`` (the published tracker) and ``default``.

Every departure from JDE is one switch, so that each can be measured on its own (see
``crowd-perception ablation tracking``):

- ``time_based``: Kalman steps and the lost-track buffer use the timestamps (dt in seconds,
  process noise scaled by dt) instead of counting calls, so dropped frames and other frame rates
  behave;
- ``byte``: a second IoU association of the remaining tracked tracks with low-score detections
  (ByteTrack), which JDE throws away;
- ``appearance_metric = "cosine"`` with ``appearance_gate``: true cosine distance and a
  calibrated per-pair appearance threshold, instead of JDE's Euclidean distance between unit
  vectors that only meets the fused cost limit;
- ``bounded_memory``: no ever-growing list of removed tracks (JDE keeps every removed track);
- ``camera_motion``: warp all tracks by a supplied image-plane homography before predicting;
- ``iou_lost_tracks``: lost tracks also take part in the IoU fallback and the BYTE stage, as in
  ByteTrack, whose first association matches every track by IoU (JDE recovers a lost track by
  appearance only, so a person whose embedding is spoilt by occlusion comes back with a new id);
- ``report_detection_boxes``: a track matched in this frame reports its detection's box instead
  of the Kalman posterior (ByteTrack implementations such as ``trackers`` do this); the filter
  with JDE's noise lags a walking person at 10 fps, which costs localisation (HOTA's LocA); at 30 fps
  the Kalman box is the better one (``ablation tracking --source sim``), so turn it off there.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["TrackerConfig", "PROFILES", "get_profile", "load_config"]


@dataclass(frozen=True)
class TrackerConfig:
    """All tracker parameters; the defaults are JDE's published ones."""

    # --- JDE association
    detection_threshold: float = 0.5  # JDE's detector conf_thres: lower detections are not associated ...
    new_track_threshold: float = 0.5  # ... and a leftover detection starts a track at or above this
    appearance_weight: float = 0.98  # fused cost = w * appearance + (1 - w) * squared Mahalanobis
    gating_threshold: float = 9.4877  # chi2(4, 0.95)
    embedding_limit: float = 0.7  # stage 1 cost limit
    iou_limit: float = 0.5  # stage 2: tracked tracks vs leftovers, 1 - IoU limit
    unconfirmed_iou_limit: float = 0.7  # unconfirmed tracks vs leftovers
    duplicate_iou: float = 0.85  # tracked / lost pairs above this IoU are duplicates
    embedding_momentum: float = 0.9  # track embedding EMA, renormalised
    frame_rate: float = 30.0  # nominal rate: Kalman velocity unit and the frame-count buffer
    track_buffer_frames: int = 30  # JDE: lost tracks removed after this many frames
    std_weight_position: float = 1.0 / 20
    std_weight_velocity: float = 1.0 / 160
    appearance_metric: str = "euclidean"  # JDE; "cosine" is 1 - cos
    appearance_gate: float | None = None  # pairs with appearance distance above it are infeasible
    # --- improvements (all off in ``jde``)
    time_based: bool = False
    track_buffer_s: float = 1.0  # used when time_based
    byte: bool = False
    byte_low_threshold: float = 0.1  # detections in [this, detection_threshold) feed the BYTE stage
    byte_iou_limit: float = 0.5
    bounded_memory: bool = False
    camera_motion: bool = False
    iou_lost_tracks: bool = False
    report_detection_boxes: bool = False

    def __post_init__(self) -> None:
        if self.appearance_metric not in ("euclidean", "cosine"):
            raise ValueError(f"appearance_metric must be 'euclidean' or 'cosine', not {self.appearance_metric!r}")
        if not 0.0 <= self.appearance_weight <= 1.0:
            raise ValueError(f"appearance_weight must be in [0, 1], got {self.appearance_weight}")
        if self.frame_rate <= 0 or self.track_buffer_frames < 0 or self.track_buffer_s < 0:
            raise ValueError("frame_rate must be > 0 and the track buffers >= 0")
        if self.byte and self.byte_low_threshold > self.detection_threshold:
            raise ValueError("byte_low_threshold must not exceed detection_threshold")

    def replace(self, **changes: Any) -> TrackerConfig:
        """A copy with some fields changed (unknown names raise ``TypeError``)."""
        return dataclasses.replace(self, **changes)


JDE = TrackerConfig()

# Cosine gate: the equal-error threshold between same- and different-identity detection pairs of
# the embeddings that feed the tracker (``crowd_perception.tracking.calibration``), here 0.666 for the
# perturbation model on the synth ``bench`` preset (``ablation tracking`` prints it). Re-calibrate
# for a new embedding head. The fused cost limit stays JDE's 0.7.
DEFAULT = JDE.replace(
    time_based=True,
    byte=True,
    appearance_metric="cosine",
    appearance_gate=0.67,
    bounded_memory=True,
    camera_motion=True,
    iou_lost_tracks=True,
    report_detection_boxes=True,
)

PROFILES: dict[str, TrackerConfig] = {"jde": JDE, "default": DEFAULT}


def get_profile(name: str) -> TrackerConfig:
    """A named profile (``jde`` or ``default``)."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown tracker profile {name!r}; known: {', '.join(PROFILES)}") from None


def load_config(path: str | Path) -> TrackerConfig:
    """A YAML file with an optional ``profile`` key and field overrides."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of tracker settings")
    base = get_profile(str(data.pop("profile", "default")))
    fields = {f.name for f in dataclasses.fields(TrackerConfig)}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise ValueError(f"{path}: unknown tracker settings {unknown}")
    return base.replace(**data)
