"""The shipped detector on real photos (../shared/fixtures: COCO, CrowdPose, OCHuman people):
it must beat an untrained HOG people detector on the same frames and answer with pedestrian-shaped boxes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crowd_perception.models.detector.evaluate import load_eval_frames, run_evaluation
from crowd_perception.models.detector.hog import HogPeopleDetector
from crowd_perception.models.detector.runner import PedestrianDetector

WEIGHTS = Path(__file__).resolve().parents[3] / "crowd_perception" / "weights" / "detector.onnx"
TRACKER_FIRST_STAGE = 0.5  # the tracker's detection_threshold, which is also the pose stage's min_box_score


@pytest.fixture
def real_frames(fixtures_dir: Path):
    return load_eval_frames(f"fixtures:{fixtures_dir}")


def test_shipped_detector_beats_hog_on_real_people(real_frames) -> None:
    detector = PedestrianDetector(WEIGHTS)
    ours = run_evaluation(detector, real_frames).metrics[("overall", "all")]
    hog = run_evaluation(HogPeopleDetector(), real_frames).metrics[("overall", "all")]
    assert ours.ap > hog.ap, (ours.ap, hog.ap)
    assert ours.at_threshold(TRACKER_FIRST_STAGE)["recall"] >= 0.5


def test_confident_boxes_are_pedestrian_shaped(real_frames) -> None:
    """Upright people are 2-4 times taller than wide; fragments of limbs or poles would not be."""
    detector = PedestrianDetector(WEIGHTS)
    aspects = []
    for image, _ in real_frames:
        found = detector.detect(image)
        boxes = found.boxes[found.scores >= TRACKER_FIRST_STAGE]
        aspects.extend((boxes[:, 3] - boxes[:, 1]) / (boxes[:, 2] - boxes[:, 0]))
    assert len(aspects) >= len(real_frames)
    assert 1.8 <= float(np.median(aspects)) <= 4.0
