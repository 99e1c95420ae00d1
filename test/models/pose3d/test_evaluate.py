import pytest

torch = pytest.importorskip("torch")

from crowd_perception.models.pose3d.evaluate import (  # noqa: E402
    _group,
    accuracy_markdown,
    evaluate_by_group,
    latency_by_crowd,
    latency_markdown,
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
    return Pose3DEstimator(torch_model=PandaNet(tiny_config), postprocess_config=PostprocessConfig(0.001, max_detections=3))


def test_evaluate_and_latency_on_synthetic_frames(estimator):
    results = evaluate_by_group(estimator, "demo", max_frames=2)
    assert set(results) == {"street", "all"} and results["all"]["num_gt"] > 0
    text = accuracy_markdown(results, "note")
    assert "| all |" in text and "<10 m" in text and "knees" in text
    rows = latency_by_crowd(estimator, people=(1, 4), frames=2, split="demo")
    assert [r["people"] for r in rows] == [1, 4]
    assert all(r["detected"] == 3 and r["total_ms"] >= r["network_ms"] > 0 for r in rows)
    assert "±10 % goal" in latency_markdown(rows)


def test_latency_markdown_verdict():
    rows = [{"people": n, "visible": n, "detected": n, "total_ms": t, "network_ms": 40.0, "other_ms": t - 40}
            for n, t in ((1, 50.0), (80, 60.0))]
    assert "20.0 % (outside" in latency_markdown(rows)
    rows[1]["total_ms"] = 52.0
    assert "within" in latency_markdown(rows)
