"""Benchmark plumbing on hand-made frames with an oracle estimator (perfect heatmaps)."""

import numpy as np
import pytest

from crowd_perception.core.types import Poses2D
from crowd_perception.models.pose2d.evaluate import evaluate_frames, latency_vs_people, occlusion_table
from crowd_perception.models.pose2d.report import render_report

from .conftest import make_frame


class _Oracle:
    """Returns the ground-truth pose of the person whose box matches (stands in for a network)."""

    skeleton = "coco17"

    def __init__(self, frames):
        self.seen: list[np.ndarray] = []
        self.lookup = {tuple(np.round(b, 3)): k for _, f in frames for b, k in zip(f.persons.boxes, f.persons.keypoints, strict=True)}

    def estimate(self, image, boxes):
        kpts = np.stack([self.lookup.get(tuple(np.round(b, 3)), np.zeros((17, 2))) for b in boxes]) if len(boxes) else np.zeros((0, 17, 2))
        self.seen.append(image)
        return Poses2D("coco17", kpts, np.ones(kpts.shape[:2]), boxes=boxes, person_scores=np.ones(len(kpts)))


def test_groups_and_perfect_scores():
    frames = [make_frame(0), make_frame(1)]
    frames[1][1].sequence = "dense_001"
    results = evaluate_frames(_Oracle(frames), frames)
    assert results["all"]["AP"] == pytest.approx(1.0) and results["all"]["people"] == 6
    assert {"density/dense", "density/all", "occlusion/0-20%", "crowd/easy"} <= set(results)
    assert results["all"]["PCK@0.1 occluded"] == 1.0
    oracle = _Oracle(frames)
    table = occlusion_table(oracle, frames, fractions=(0.0, 0.5))
    assert table[0.5]["AP"] == pytest.approx(1.0)  # the oracle ignores pixels
    # the occluders are painted on the image the estimator sees: untouched at 0 %, edited at 50 %
    np.testing.assert_array_equal(oracle.seen[0], frames[0][0])
    assert (oracle.seen[2] != frames[0][0]).any(axis=-1).mean() > 0.01
    text = render_report({"oracle": {"frames": results, "occlusion_table": {str(k): v for k, v in table.items()}}},
                         "toy", 2, "none", False)
    assert "| oracle | all | 1.000" in text and "50% hidden" in text


def test_latency_counts():
    frames = [make_frame(0)]
    image, frame = frames[0]
    out = latency_vs_people(_Oracle(frames), image, frame.persons.boxes[:1], counts=(1, 3), repeats=1)
    assert set(out) == {1, 3} and all(v >= 0 for v in out.values())


def test_mean_pose_floor_pastes_one_box_normalised_pose_into_every_box():
    from crowd_perception.models.pose2d.evaluate import MeanPoseEstimator

    frames = [make_frame(0), make_frame(1)]
    floor = MeanPoseEstimator.fit(frames, "coco17", min_height=32.0)
    rel = []
    for _, f in frames:
        b = f.persons.boxes
        rel.append((f.persons.keypoints - b[:, None, :2]) / (b[:, None, 2:] - b[:, None, :2]))
    np.testing.assert_allclose(floor.mean_pose, np.concatenate(rel).mean(axis=0), atol=1e-6)
    boxes = np.array([[10.0, 20.0, 110.0, 220.0]])
    poses = floor.estimate(frames[0][0], boxes)
    np.testing.assert_allclose(poses.keypoints[0], boxes[0, :2] + floor.mean_pose * [100.0, 200.0], atol=1e-4)
    metrics = evaluate_frames(floor, frames)["all"]
    assert 0.0 < metrics["spread x"] < 1.0  # an average pose is narrower than the people it averages
    assert len(floor.estimate(frames[0][0], np.zeros((0, 4)))) == 0


def test_report_has_spread_and_side_columns():
    frames = [make_frame(0)]
    metrics = {"oracle": {"frames": evaluate_frames(_Oracle(frames), frames)}}
    assert metrics["oracle"]["frames"]["all"]["spread x"] == pytest.approx(1.0)
    assert metrics["oracle"]["frames"]["all"]["L/R sides"] == pytest.approx(1.0)
    text = render_report(metrics, data="toy", frames=1, backend="none", flip=False)
    assert "| spread x | spread y | L/R sides |" in text
