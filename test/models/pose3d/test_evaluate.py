import numpy as np
import pytest

torch = pytest.importorskip("torch")

from crowd_perception.models.pose3d.evaluate import (  # noqa: E402
    _group,
    accuracy_markdown,
    calibrate_score_threshold,
    evaluate_by_group,
    latency_by_crowd,
    latency_markdown,
    readout_scaling,
)
from crowd_perception.models.pose3d.model import PandaNet  # noqa: E402
from crowd_perception.models.pose3d.postprocess import PostprocessConfig  # noqa: E402
from crowd_perception.models.pose3d.runner import Pose3DEstimator  # noqa: E402


def test_sequence_group_names():
    assert _group("bench_very_dense_001", "bench") == "very_dense"
    assert _group("bench_sparse_000", "bench") == "sparse"


@pytest.fixture
def estimator(tiny_config):
    torch.manual_seed(0)
    return Pose3DEstimator.from_torch(PandaNet(tiny_config), PostprocessConfig(0.001, max_detections=3))


def test_evaluate_and_latency_on_synthetic_frames(estimator):
    results = evaluate_by_group(estimator, "demo", max_frames=2)
    assert set(results) == {"street", "all"} and results["all"]["num_gt"] > 0
    text = accuracy_markdown(results, "note")
    assert "| all |" in text and "<10 m" in text and "knees" in text
    rows = latency_by_crowd(estimator, people=(1, 4), frames=2, split="demo", repeats=1)
    assert [r["people"] for r in rows] == [1, 4]
    assert all(r["detected"] == 3 and r["total_ms"] >= r["network_ms"] > 0 for r in rows)
    readout = readout_scaling(estimator, people=(1, 4), candidates_per_person=2, repeats=2)
    assert [r["kept"] for r in readout] == [1, 3], "one box per person, at most max_detections=3"
    text = latency_markdown(rows, readout=readout)
    assert "±10 % goal" in text and "Readout alone" in text


def test_latency_markdown_verdict():
    rows = [{"people": n, "visible": n, "detected": n, "total_ms": t, "network_ms": 40.0, "other_ms": t - 40}
            for n, t in ((1, 50.0), (80, 60.0))]
    assert "20.0 % (outside" in latency_markdown(rows)
    rows[1]["total_ms"] = 52.0
    assert "within" in latency_markdown(rows)


class _FixedDetections:
    """Stands in for an estimator: always returns the same scored boxes (honouring the threshold)."""

    def __init__(self, boxes, scores):
        from crowd_perception.core.types import Poses3D

        self.postprocess_config = PostprocessConfig(0.5)
        self.poses = Poses3D("body22", np.zeros((len(boxes), 22, 3)), boxes=boxes, person_scores=scores)

    def estimate(self, image, camera):
        keep = self.poses.person_scores >= self.postprocess_config.score_threshold
        from crowd_perception.core.types import Poses3D

        p = self.poses
        return Poses3D("body22", p.joints_relative[keep], boxes=p.boxes[keep], person_scores=p.person_scores[keep])


def test_calibration_picks_the_best_f1_threshold():
    from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations

    gt = np.array([[0, 0, 10, 20], [50, 0, 60, 20]], dtype=float)
    ann = FrameAnnotation("t", 100, 40, PersonAnnotations("body22", gt, joints_3d=np.ones((2, 22, 3))))
    # TP 0.9, FP 0.6, TP 0.3: F1 0.8 for t <= 0.3, 0.5 up to 0.6, 2/3 above
    fake = _FixedDetections(np.array([gt[0], [20, 0, 30, 20], gt[1]]), np.array([0.9, 0.6, 0.3]))
    threshold, f1 = calibrate_score_threshold(fake, [(None, ann)], candidates=(0.2, 0.5, 0.7))
    assert threshold == 0.2 and f1 == pytest.approx(0.8)
    fake.poses.person_scores[2] = 0.1  # the second TP now falls below every candidate but the lowest
    threshold, f1 = calibrate_score_threshold(fake, [(None, ann)], candidates=(0.2, 0.5, 0.7))
    assert threshold == 0.7 and f1 == pytest.approx(2 / 3)
    assert fake.postprocess_config.score_threshold == 0.5, "the estimator's own threshold is restored"


def test_person_finder_ranks_every_box_and_restores_the_operating_point():
    """The 3D model as a person detector: boxes down to the AP threshold, its own threshold kept after."""
    from dataclasses import dataclass

    from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations
    from crowd_perception.core.types import Poses3D
    from crowd_perception.models.pose3d.evaluate import AP_SCORE_THRESHOLD, PersonFinder

    @dataclass
    class _Config:
        score_threshold: float

    class _Estimator:
        postprocess_config = _Config(0.6)

        def estimate(self, image, camera=None):
            keep = np.array([0.9, 0.3]) >= self.postprocess_config.score_threshold
            boxes = np.array([[10, 10, 40, 90], [60, 10, 90, 90]], dtype=np.float32)[keep]
            return Poses3D("body22", np.zeros((keep.sum(), 22, 3)), boxes=boxes, person_scores=np.array([0.9, 0.3])[keep])

    estimator = _Estimator()
    finder = PersonFinder(estimator)
    detections = finder.detect(np.zeros((100, 100, 3), np.uint8))
    assert len(detections) == 2 and AP_SCORE_THRESHOLD < 0.3
    assert estimator.postprocess_config.score_threshold == 0.6
    alone = FrameAnnotation("x", 100, 100, PersonAnnotations("body22", np.array([[60, 12, 90, 88]], np.float32)))
    image = np.zeros((100, 100, 3), np.uint8)
    assert finder.found_alone(image, alone, 0.2) and not finder.found_alone(image, alone, 0.6)
