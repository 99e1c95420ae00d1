"""The benchmarks time the one Pipeline the nodes run (its thresholds, its tracker, one per sequence)."""

from __future__ import annotations

import numpy as np

from crowd_perception.core.skeletons import get_skeleton
from crowd_perception.core.types import Detections, Poses2D, Poses3D
from crowd_perception.pipeline import MODEL_STAGES, Pipeline
from crowd_perception.pipeline.benchmark import bench_pipeline, pipeline_of, render_markdown


class _Backend:
    name = "fake"

    def run(self, feeds):
        return {}


class _Detector:
    """Three detections per frame: 0.9 and 0.6 (published, posed), 0.1 (below the operating point)."""

    backend = _Backend()

    def detect(self, image):
        boxes = np.array([[0, 0, 10, 30], [20, 0, 30, 40], [40, 0, 50, 30]], np.float32)
        return Detections(boxes, [0.9, 0.6, 0.1], embeddings=np.eye(3, 4, dtype=np.float32))


class _Pose2D:
    backend = _Backend()
    skeleton = "coco17"

    def estimate(self, image, boxes):
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        k = get_skeleton(self.skeleton).num_joints
        return Poses2D(self.skeleton, np.zeros((len(boxes), k, 2)), boxes=boxes)


class _Pose3D:
    backend = _Backend()

    def estimate(self, image, camera=None):
        return Poses3D.empty("body22")


class _Sample:
    def __init__(self, sequence: str, stamp_ns: int) -> None:
        self.image = np.broadcast_to(np.linspace(0, 255, 60, dtype=np.uint8)[None, :, None], (40, 60, 3)).copy()
        self.annotation = type("A", (), {"sequence": sequence, "stamp_ns": stamp_ns, "camera": None})()


def _runners() -> dict:
    return {"detector": _Detector(), "pose2d": _Pose2D(), "pose3d": _Pose3D()}


def test_pipeline_of_needs_every_model_and_one_name_per_stage():
    from crowd_perception.pipeline.stages import NODE_CONFIGS, ModelNodeConfig

    assert MODEL_STAGES == ("detector", "pose2d", "pose3d")
    assert sorted(c.MODEL for c in NODE_CONFIGS.values() if issubclass(c, ModelNodeConfig)) == sorted(MODEL_STAGES)
    assert pipeline_of({"detector": _Detector()}) is None
    pipeline = pipeline_of(_runners())
    assert isinstance(pipeline, Pipeline) and len(pipeline.model_stages()) == 3


def test_bench_pipeline_applies_the_node_thresholds_and_new_tracks_per_sequence():
    pipeline = pipeline_of(_runners())
    samples = [_Sample("a", i * 10**8) for i in range(3)] + [_Sample("b", i * 10**8) for i in range(3)]
    result = bench_pipeline(pipeline, samples, warmup=1)
    assert result["calls"] == 5 and result["total_median_ms"] > 0
    assert result["score_threshold"] == pipeline.detector.config.score_threshold
    assert result["min_box_score"] == pipeline.pose2d.config.min_box_score
    assert (result["detections_mean"], result["posed_mean"]) == (2.0, 2.0)
    assert pipeline.tracker.runner.resets == 0  # sequence b started on fresh tracks, not on stamps going back
    text = render_markdown({"config": {"frames": 5, "warmup": 1, "threads": 1, "backend": "fake", "variant": ""},
                            "backends": {}, "missing": [], "models": {}, "scaling": {}, "pipeline": result})
    assert f">= {pipeline.detector.config.score_threshold} are published" in text
