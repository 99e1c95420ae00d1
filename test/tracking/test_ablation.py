"""The tracker ablation: conditions, per-rate configs, detector-fed frames and small end-to-end runs."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from crowd_perception.core.types import Detections
from crowd_perception.tracking.ablation import (
    GroundTruthFrame,
    GroundTruthSequence,
    apply_condition,
    detect_samples,
    detection_identities,
    for_frame_rate,
    run_ablation,
)
from crowd_perception.tracking.config import get_profile
from crowd_perception.tracking.simulation import simulate_crowd


def _sequence(people: int, frames: int, seed: int) -> GroundTruthSequence:
    items = tuple(
        GroundTruthFrame(f.stamp_ns, f.boxes, f.ids, f.visible_fractions)
        for f in simulate_crowd(people, frames, seed=seed)
    )
    return GroundTruthSequence(f"sim{seed}", 30.0, 1920, 1080, items)


def test_dropped_condition_keeps_the_first_frame_and_drops_about_a_quarter():
    seq = _sequence(3, 400, 0)
    dropped = apply_condition(seq, "dropped", seed=1)
    assert dropped.frames[0] is seq.frames[0]
    assert 0.2 < 1 - len(dropped.frames) / 400 < 0.3


def test_pan_condition_homographies_chain_the_warped_boxes():
    seq = _sequence(3, 20, 0)
    pan = apply_condition(seq, "pan", seed=0)
    assert pan.frames[0].homography is None
    np.testing.assert_allclose(pan.frames[0].boxes, seq.frames[0].boxes)  # the pan starts at rest
    chained = np.eye(3)
    for original, seen in zip(seq.frames[1:], pan.frames[1:], strict=True):
        chained = seen.homography @ chained  # frame 0 image -> this image
        corners = np.c_[original.boxes.reshape(-1, 2), np.ones(2 * len(original.boxes))] @ chained.T
        np.testing.assert_allclose(seen.boxes, (corners[:, :2] / corners[:, 2:]).reshape(-1, 4), atol=1e-6)
    assert not np.allclose(chained, np.eye(3))
    with pytest.raises(ValueError, match="unknown condition"):
        apply_condition(seq, "rain", seed=0)


def test_frame_counting_configs_follow_the_sequence_rate():
    jde = for_frame_rate(get_profile("jde"), 10.0)
    assert (jde.frame_rate, jde.track_buffer_frames) == (10.0, 10)
    assert for_frame_rate(get_profile("default"), 10.0) == get_profile("default")


def test_small_ablation_end_to_end():
    sequences = [_sequence(8, 60, 0), _sequence(15, 60, 1)]
    variants = {"jde": get_profile("jde"), "default": get_profile("default")}
    reports = run_ablation(sequences, variants, conditions=("nominal", "pan"))
    assert set(reports) == {("jde", "nominal"), ("jde", "pan"), ("default", "nominal"), ("default", "pan")}
    for report in reports.values():
        assert 20 < report.combined["HOTA"] <= 100 and report.combined["GT_IDs"] > 0
    assert sorted(reports["jde", "nominal"].sequences) == ["sim0", "sim1"]


def _with_detector(seq: GroundTruthSequence) -> GroundTruthSequence:
    """The sequence with a perfect 'detector' attached: the true boxes and one-hot identity embeddings."""
    frames = tuple(
        GroundTruthFrame(
            f.stamp_ns,
            f.boxes,
            f.ids,
            f.visible,
            detections=Detections(f.boxes, np.full(len(f.boxes), 0.9), embeddings=np.eye(64)[f.ids % 64]),
        )
        for f in seq.frames
    )
    return GroundTruthSequence(seq.name, seq.frame_rate, seq.width, seq.height, frames)


def test_detection_identities_match_one_to_one_by_iou():
    gt = np.array([[0, 0, 10, 20], [100, 0, 110, 20]], float)
    dets = np.array([[1, 0, 11, 20], [0, 0, 10, 20], [300, 0, 310, 20], [100, 5, 110, 25]], float)
    # the exact box wins the first person; the 15/25 overlap with the second person passes 0.5
    np.testing.assert_array_equal(detection_identities(gt, np.array([7, 9]), dets), [-1, 7, -1, 9])


def test_detect_samples_runs_once_per_kept_frame():
    calls = []

    def detect(image: np.ndarray) -> Detections:
        calls.append(image)
        return Detections.empty(8)

    samples = [
        SimpleNamespace(
            image=np.zeros((2, 2, 3), np.uint8), annotation=SimpleNamespace(frame_index=k, image_id=f"s/{k}")
        )
        for k in range(5)
    ]
    annotations, detections = detect_samples(samples, detect, max_frames=3)
    assert [a.image_id for a in annotations] == ["s/0", "s/1", "s/2"] and sorted(detections) == ["s/0", "s/1", "s/2"]
    assert len(calls) == 3


def test_attached_detections_feed_the_tracker_and_follow_the_pan():
    seq = _with_detector(_sequence(8, 60, 0))
    pan = apply_condition(seq, "pan", seed=0)
    for f in pan.frames:
        np.testing.assert_allclose(f.detections.boxes, f.boxes, atol=1e-3)  # warped like the ground truth
        assert f.detections.embeddings.shape == (len(f.boxes), 64)
    reports = run_ablation([seq], {"default": get_profile("default")}, conditions=("nominal", "pan"))
    perturbed = run_ablation([_sequence(8, 60, 0)], {"default": get_profile("default")}, conditions=("nominal",))
    for condition in ("nominal", "pan"):  # perfect detections beat the perturbation model's
        assert reports["default", condition].combined["HOTA"] > perturbed["default", "nominal"].combined["HOTA"]
        assert reports["default", condition].combined["HOTA"] > 80
