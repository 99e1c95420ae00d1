"""A frame of thousands of detections: the tracker associates the best-scored ``max_detections`` only
(counted), so its work is bounded by that cap, not by what the detector sends."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.core.types import Detections
from crowd_perception.tracking import tracker as tracker_module
from crowd_perception.tracking.tracker import MAX_DETECTIONS, Tracker


def _flood(n: int, seed: int = 0) -> Detections:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 3800, (n, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(10, 40, (n, 2))], axis=1)
    embeddings = rng.standard_normal((n, 32)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    return Detections(boxes, rng.uniform(0.5, 1.0, n), embeddings=embeddings)


def test_thousands_of_detections_are_capped_to_the_best_scored_and_counted(monkeypatch):
    shapes = []
    for name in ("linear_assignment", "iou_distance"):
        original = getattr(tracker_module, name)

        def recording(cost, *args, _original=original, **kwargs):
            shapes.append(np.shape(cost))
            return _original(cost, *args, **kwargs)

        monkeypatch.setattr(tracker_module, name, recording)
    tracker = Tracker("default")
    flood = _flood(5000)
    tracks = tracker.update(flood, 0)
    assert tracker.overflow_detections == 5000 - MAX_DETECTIONS
    floor = np.sort(flood.scores)[-MAX_DETECTIONS]
    assert len(tracks) == MAX_DETECTIONS and tracks.scores.min() >= floor  # the best-scored ones started tracks
    tracker.update(_flood(5000, seed=1), 33_000_000)  # a second flood meets the first one's tracks
    assert tracker.overflow_detections == 2 * (5000 - MAX_DETECTIONS)
    assert shapes and max(cols for _, cols in shapes) <= MAX_DETECTIONS  # every matrix: at most the cap wide
    assert max(rows for rows, _ in shapes) <= MAX_DETECTIONS  # and as tall as the tracks the cap allowed


def test_frames_within_the_cap_are_untouched():
    tracker = Tracker("default", max_detections=10)
    tracker.update(_flood(10), 0)
    assert tracker.overflow_detections == 0
    with pytest.raises(ValueError, match="max_detections"):
        Tracker("default", max_detections=0)
