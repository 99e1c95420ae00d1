"""The untrained HOG baseline: finds an upright person-shaped figure, not a blank wall; real fixtures load."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crowd_perception.core.boxes import box_iou
from crowd_perception.models.detector.evaluate import FIXTURE_SETS, expand_specs, load_eval_frames
from crowd_perception.models.detector.hog import HogPeopleDetector


def test_expand_specs() -> None:
    assert expand_specs("synth:bench, mot:/x") == ["synth:bench", "mot:/x"]
    assert expand_specs("fixtures:/f") == [f"{name}:/f/{path}" for name, path in FIXTURE_SETS]


def test_blank_image_gives_nothing() -> None:
    detections = HogPeopleDetector().detect(np.full((256, 192, 3), 128, np.uint8))
    assert len(detections) == 0 and detections.boxes.shape == (0, 4)


def test_hog_finds_real_people_and_scores_are_probabilities(fixtures_dir: Path) -> None:
    """On the real COCO sample, HOG returns well-formed boxes inside the image with scores in (0, 1),
    and at least one of them overlaps a ground-truth person (IoU >= 0.3)."""
    frames = load_eval_frames(f"fixtures:{fixtures_dir}")
    assert len(frames) == 9 and all(len(ann.persons) for _, ann in frames)
    hog = HogPeopleDetector()
    best = 0.0
    for image, ann in frames:
        detections = hog.detect(image)
        if len(detections):
            w = image.shape[1]
            assert np.all(detections.boxes[:, 2:] > detections.boxes[:, :2])
            assert np.all((detections.scores > 0) & (detections.scores < 1))
            assert detections.boxes[:, 0].min() > -w and detections.boxes[:, 2].max() < 2 * w
            best = max(best, float(box_iou(detections.boxes, ann.persons.boxes).max()))
    assert best >= 0.3
