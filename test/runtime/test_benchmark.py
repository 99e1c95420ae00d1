"""Bench-suite helpers: ground-truth boxes for the pose workload and the RESULTS tables."""

from __future__ import annotations

import numpy as np

from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations
from crowd_perception.pipeline.benchmark import BenchConfig, render_markdown
from crowd_perception.runtime.bench import frame_boxes


def test_frame_boxes_keeps_visible_people_clipped():
    persons = PersonAnnotations(
        skeleton="body22",
        boxes=np.array([[-10, 5, 30, 90], [50, 10, 70, 60], [0, 0, 1, 1]], np.float32),
        visible_fractions=np.array([0.9, 0.05, 1.0], np.float32),
    )
    boxes = frame_boxes(FrameAnnotation("f", 100, 80, persons))
    np.testing.assert_allclose(boxes, [[0, 5, 30, 80]])


def _stats(total: float) -> dict[str, float]:
    out = {f"{s}_{q}_ms": total / 4 for s in ("pre", "infer", "post") for q in ("median", "p99")}
    return {**out, "total_median_ms": total, "total_p99_ms": total * 1.5, "throughput_per_s": 1e3 / total, "peak_rss_mib": 100.0}


def test_render_markdown_tables():
    import dataclasses

    result = {
        "config": dataclasses.asdict(BenchConfig(frames=3)),
        "backends": {"pose2d": "onnxruntime", "pose3d": "onnxruntime"},
        "missing": ["detector"],
        "models": {"pose2d": _stats(10.0), "pose3d": _stats(20.0)},
        "scaling": {
            "pose2d": [{"people": 1, **_stats(5.0)}, {"people": 80, **_stats(50.0)}],
            "pose3d": [{"people": 1, **_stats(20.0)}],
        },
    }
    text = render_markdown(result)
    assert "| pose2d | onnxruntime | 2.50 / 2.50 | 2.50 / 2.50 | 2.50 / 2.50 | 10.00 / 15.00 | 100.000 | 100.000 |" in text
    assert "Not measured (no exported model): detector." in text
    assert "| 80 | 50.000 |  | 12.500 |  |" in text


class TinyPoseRunner:
    """A pose2d-shaped runner on the tiny ONNX model: resize each box crop, one batched inference."""

    def __init__(self, onnx_path) -> None:
        from crowd_perception.runtime.backends import create_backend

        self.backend = create_backend(onnx_path)

    def estimate(self, image, boxes):
        import cv2

        crops = [cv2.resize(image[int(b[1]) : int(b[3]) + 1, int(b[0]) : int(b[2]) + 1], (24, 16)) for b in boxes]
        batch = np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32) / 255.0 if crops else None
        if batch is None:
            return []
        return [self.backend.run({"image": batch[i : i + 8]})["heatmaps"] for i in range(0, len(batch), 8)]


def test_bench_models_and_pose_scaling_on_synthetic_frames(tiny_model):
    from crowd_perception.pipeline.benchmark import bench_models, bench_samples, scaling_pose2d

    samples = bench_samples(3)
    assert len(samples) == 3 and len({s.annotation.sequence for s in samples}) == 3  # one per density group
    runner = TinyPoseRunner(tiny_model[0])
    result = bench_models({"pose2d": runner}, samples, warmup=1)["pose2d"]
    assert result["calls"] == 2 and result["infer_median_ms"] > 0 and result["peak_rss_mib"] > 0
    rows = scaling_pose2d(runner, samples[0].image, [1, 20], repeats=2, seed=0)
    assert [r["people"] for r in rows] == [1, 20] and all(r["total_median_ms"] >= r["infer_median_ms"] for r in rows)
