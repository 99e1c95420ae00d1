"""Bench-suite helpers: ground-truth boxes for the pose workload and the RESULTS tables."""

from __future__ import annotations

import numpy as np

from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations
from crowd_perception.runtime.benchmark import BenchConfig, frame_boxes, render_markdown


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
