"""The occlusion threshold search: exhaustive, optimal on a hand-checked case."""

import numpy as np
import pytest

from crowd_perception.models.pose2d.calibrate import best_threshold


def test_best_threshold_on_a_hand_checked_case():
    # logits -2 -1 0.5 1 2 3 with labels 0 0 0 1 1 1: any threshold in (0.5, 1) is perfect; midpoint 0.75
    threshold, accuracy = best_threshold(np.array([1.0, -2, 3, 0.5, -1, 2]), np.array([1, 0, 1, 0, 0, 1], bool))
    assert threshold == pytest.approx(0.75) and accuracy == 1.0


def test_biased_logits_are_recentred():
    """Logits biased by +2 (a head trained on too many occluded joints): the threshold moves to about +2."""
    rng = np.random.default_rng(0)
    labels = rng.random(4000) < 0.4
    logits = np.where(labels, 1.5, -1.5) + rng.normal(0, 1, 4000) + 2.0
    threshold, accuracy = best_threshold(logits, labels)
    assert 1.5 < threshold < 2.6 and accuracy > ((logits > 0) == labels).mean() + 0.1


def test_all_one_class_and_empty():
    threshold, accuracy = best_threshold(np.array([0.3, -0.2]), np.array([False, False]))
    assert threshold > 0.3 and accuracy == 1.0
    with pytest.raises(ValueError):
        best_threshold(np.array([]), np.array([], bool))
