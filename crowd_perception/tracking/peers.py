"""Peer trackers behind one interface, so that they and ours see exactly the same detection stream.

Each :class:`TrackerAdapter` splits a frame into three calls so that a benchmark times only the
tracker itself: :meth:`~TrackerAdapter.prepare` converts our :class:`Detections` into the peer's
input type (not timed, any user of the peer pays it in their own detector code),
:meth:`~TrackerAdapter.step` is the peer's own update call (timed) and
:meth:`~TrackerAdapter.tracks` converts its output back into our :class:`Tracks` (not timed), which
the MOTChallenge writer and TrackEval then read exactly as they read ours.

Peers (optional extra ``peers``; each is imported only when built, and :func:`unavailable` names
what is missing):

- ``supervision-bytetrack``: ByteTrack on ``supervision`` 0.31 ``Detections``. supervision 0.31
  no longer ships ``sv.ByteTrack``; its documentation points to ``trackers.ByteTrackTracker``
  (Roboflow's ``trackers`` package, which consumes and returns ``sv.Detections``), used here;
- ``norfair``: norfair 2.3 with the IoU distance on the two box corners;
- ``boxmot-bytetrack``, ``boxmot-ocsort``, ``boxmot-botsort``: boxmot 25 (BoT-SORT gets our
  embeddings, and no camera-motion compensation: the stream has no images).

Fair settings (:func:`build`): every peer gets its documented defaults except the frame rate
(the sequence's, where the peer takes one) and the score thresholds, set to ours: detections at
or above ``config.detection_threshold`` (0.5) are high-confidence and may start tracks, and the
low-confidence floor is ``config.byte_low_threshold`` (0.1) where the peer has one.
"""

from __future__ import annotations

import importlib
import logging
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from ..core.types import Detections, Tracks, TrackState
from .ablation import for_frame_rate
from .config import TrackerConfig
from .tracker import Tracker

__all__ = [
    "INSTALL",
    "PEERS",
    "TrackerAdapter",
    "build",
    "unavailable",
    "versions",
    "boxmot_rows",
    "norfair_corners",
    "corner_boxes",
    "confirmed_tracks",
    "boxmot_tracks",
]

# How to install every peer: the extra brings their dependencies; the peers themselves go in without theirs
# (norfair 2.3 pins numpy < 2, trackers wants opencv-python over our headless build, boxmot wants torchvision).
INSTALL = "pip install '.[peers]' && pip install --no-deps norfair==2.3.0 trackers==2.6.1 boxmot==25.0.0"

# peer name -> the modules it needs (the first one missing is the reason it cannot run)
PEERS: dict[str, tuple[str, ...]] = {
    "supervision-bytetrack": ("supervision", "trackers"),
    "norfair": ("norfair",),
    "boxmot-bytetrack": ("boxmot",),
    "boxmot-ocsort": ("boxmot",),
    "boxmot-botsort": ("boxmot",),
}


def unavailable(name: str) -> str | None:
    """Why peer ``name`` cannot run here (the failed import, in one line), or ``None`` when it can."""
    for module in PEERS[name]:
        try:
            importlib.import_module(module)
        except Exception as exc:  # any import failure (missing wheel or dependency, ABI) is the reason
            return f"{module}: {type(exc).__name__}: {exc}".splitlines()[0]
    return None


def versions(name: str) -> str:
    """The installed versions of what peer ``name`` runs on, e.g. ``supervision 0.31.2 + trackers 2.6.1``."""
    from importlib.metadata import PackageNotFoundError, version

    def one(module: str) -> str:
        try:
            return f"{module} {version(module)}"
        except PackageNotFoundError:
            return f"{module} (not installed)"

    return " + ".join(one(module) for module in PEERS[name])


# ------------------------------------------------------------------ format conversions (no peer needed)
def boxmot_rows(detections: Detections) -> np.ndarray:
    """boxmot's ``(N, 6)`` float32 input rows ``x1 y1 x2 y2 score class`` (class 0: person)."""
    rows = np.zeros((len(detections), 6), dtype=np.float32)
    rows[:, :4] = detections.boxes
    rows[:, 4] = detections.scores
    return rows


def norfair_corners(detections: Detections) -> tuple[np.ndarray, np.ndarray]:
    """norfair's points of each box: its two corners ``(N, 2, 2)``, each scored with the box's score."""
    corners = np.asarray(detections.boxes, dtype=np.float64).reshape(-1, 2, 2)
    scores = np.repeat(np.asarray(detections.scores, dtype=np.float64)[:, None], 2, axis=1)
    return corners, scores


def corner_boxes(corners: np.ndarray) -> np.ndarray:
    """``xyxy`` boxes spanning norfair's two corner estimates ``(N, 2, 2)``: they move independently and
    may cross, and a MOTChallenge box needs ``x1 <= x2``, ``y1 <= y2``."""
    return np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)


def confirmed_tracks(ids: np.ndarray, boxes: np.ndarray, scores: np.ndarray) -> Tracks:
    """A peer's reported tracks as our confirmed :class:`Tracks` (ids shifted to start at 1 when a peer
    counts from 0, since MOTChallenge ids are positive)."""
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    return Tracks(ids, np.full(len(ids), TrackState.CONFIRMED), np.asarray(boxes).reshape(-1, 4), scores=scores)


def boxmot_tracks(rows: np.ndarray) -> Tracks:
    """boxmot's numpy output rows ``x1 y1 x2 y2 id score class det_index`` (ids from 0) as :class:`Tracks`."""
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, 8)
    return confirmed_tracks(rows[:, 4].astype(np.int64) + 1, rows[:, :4], rows[:, 5])


# ------------------------------------------------------------------ adapters
class TrackerAdapter(ABC):
    """One tracker on our detections: ``prepare`` (untimed) -> ``step`` (timed) -> ``tracks`` (untimed)."""

    @abstractmethod
    def prepare(self, detections: Detections, stamp_ns: int) -> Any:
        """The peer's input for one frame."""

    @abstractmethod
    def step(self, prepared: Any) -> Any:
        """The peer's own update call on a prepared frame; returns its native output."""

    @abstractmethod
    def tracks(self, output: Any) -> Tracks:
        """The native output of :meth:`step` as our :class:`Tracks` (what the peer reports)."""

    def update(self, detections: Detections, stamp_ns: int, homography: np.ndarray | None = None) -> Tracks:
        """All three steps (the ``Tracker.update`` signature; no peer takes a homography, so none is given)."""
        return self.tracks(self.step(self.prepare(detections, stamp_ns)))


class OursAdapter(TrackerAdapter):
    """Our :class:`Tracker`: its input is already our detections."""

    def __init__(self, config: TrackerConfig) -> None:
        self.tracker = Tracker(config)

    def prepare(self, detections: Detections, stamp_ns: int) -> tuple[Detections, int]:
        return detections, stamp_ns

    def step(self, prepared: tuple[Detections, int]) -> Tracks:
        return self.tracker.update(*prepared)

    def tracks(self, output: Tracks) -> Tracks:
        return output


class SupervisionByteTrack(TrackerAdapter):
    """``trackers.ByteTrackTracker`` on ``sv.Detections``; it reports matched tracks that have an id."""

    def __init__(self, config: TrackerConfig, frame_rate: float) -> None:
        import supervision as sv
        from trackers import ByteTrackTracker

        self._sv = sv
        self.tracker = ByteTrackTracker(
            frame_rate=frame_rate,
            track_activation_threshold=config.new_track_threshold,
            high_conf_det_threshold=config.detection_threshold,
        )

    def prepare(self, detections: Detections, stamp_ns: int) -> Any:
        return self._sv.Detections(
            xyxy=np.asarray(detections.boxes, dtype=np.float32),
            confidence=np.asarray(detections.scores, dtype=np.float32),
            class_id=np.zeros(len(detections), dtype=int),
        )

    def step(self, prepared: Any) -> Any:
        return self.tracker.update(prepared)

    def tracks(self, output: Any) -> Tracks:
        keep = output.tracker_id >= 0
        return confirmed_tracks(output.tracker_id[keep] + 1, output.xyxy[keep], output.confidence[keep])


class NorfairAdapter(TrackerAdapter):
    """norfair with the IoU distance (its documented box setting, threshold 0.7); it reports every
    initialised object with its estimate, coasting ones included (what ``Tracker.update`` returns)."""

    def __init__(self, config: TrackerConfig) -> None:
        import norfair

        self._detection = norfair.Detection
        self.tracker = norfair.Tracker(
            distance_function="iou", distance_threshold=0.7, detection_threshold=config.detection_threshold
        )

    def prepare(self, detections: Detections, stamp_ns: int) -> list[Any]:
        corners, scores = norfair_corners(detections)
        return [self._detection(points, scores=s) for points, s in zip(corners, scores, strict=True)]

    def step(self, prepared: list[Any]) -> list[Any]:
        return list(self.tracker.update(prepared))

    def tracks(self, output: list[Any]) -> Tracks:
        ids = np.array([o.id for o in output], dtype=np.int64)
        boxes = corner_boxes(np.array([o.estimate.reshape(2, 2) for o in output]).reshape(-1, 2, 2))
        scores = np.array([float(np.mean(o.last_detection.scores)) for o in output])
        return confirmed_tracks(ids, boxes, scores)


class BoxmotAdapter(TrackerAdapter):
    """boxmot ByteTrack / OC-SORT on its numpy rows; BoT-SORT on its ``Detections`` with our embeddings."""

    def __init__(self, kind: str, config: TrackerConfig, frame_rate: float) -> None:
        import boxmot

        logging.getLogger("boxmot").setLevel(logging.WARNING)
        high, low = config.detection_threshold, config.byte_low_threshold
        self.embeddings = kind == "botsort"
        if kind == "bytetrack":
            self.tracker = boxmot.ByteTrack(track_thresh=high, min_conf=low, frame_rate=round(frame_rate))
        elif kind == "ocsort":
            self.tracker = boxmot.OcSort(det_thresh=high, min_conf=low)
        elif kind == "botsort":
            self.tracker = boxmot.BotSort(
                track_high_thresh=high,
                track_low_thresh=low,
                new_track_thresh=config.new_track_threshold,
                frame_rate=round(frame_rate),
                use_cmc=False,
            )
        else:
            raise ValueError(f"unknown boxmot tracker {kind!r}")
        self._frame = 0

    def prepare(self, detections: Detections, stamp_ns: int) -> Any:
        if not self.embeddings:
            return boxmot_rows(detections)
        import torch
        from boxmot.structures import Boxes
        from boxmot.structures import Detections as BoxmotDetections

        self._frame += 1
        rows = boxmot_rows(detections)
        return BoxmotDetections(
            Boxes(torch.from_numpy(rows[:, :4].copy())),
            torch.from_numpy(rows[:, 4].copy()),
            torch.zeros(len(rows), dtype=torch.int64),
            sample_id=f"frame{self._frame}",
            embeddings=torch.from_numpy(np.asarray(detections.embeddings, dtype=np.float32)),
        )

    def step(self, prepared: Any) -> Any:
        return self.tracker.update(prepared, None)

    def tracks(self, output: Any) -> Tracks:
        if isinstance(output, np.ndarray):
            return boxmot_tracks(output)
        return confirmed_tracks(output.track_ids.numpy() + 1, output.geometry.values.numpy(), output.scores.numpy())


def build(name: str, config: TrackerConfig, frame_rate: float) -> TrackerAdapter:
    """Tracker ``name`` (``ours`` or a key of :data:`PEERS`) set up fairly for ``frame_rate`` fps (see the
    module docstring); ``config`` is our tracker's configuration, whose thresholds the peers share."""
    if name == "ours":
        return OursAdapter(for_frame_rate(config, frame_rate))
    if name == "supervision-bytetrack":
        return SupervisionByteTrack(config, frame_rate)
    if name == "norfair":
        return NorfairAdapter(config)
    if name.startswith("boxmot-") and name in PEERS:
        return BoxmotAdapter(name.removeprefix("boxmot-"), config, frame_rate)
    raise ValueError(f"unknown tracker {name!r}; known: ours, {', '.join(PEERS)}")
