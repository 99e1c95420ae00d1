"""The node stages with the real runners and the shipped default models, on two synthetic demo
frames (skips, saying which file is missing, until the weights are in crowd_perception/weights/)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from crowd_perception.ros import bag as bagio
from crowd_perception.ros import convert
from crowd_perception.ros.replay import Pipeline, replay_bag
from crowd_perception.runtime.models import get_model

MODELS = [get_model(name).onnx() for name in ("detector", "pose2d", "pose3d")]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    missing = [p for p in MODELS if not p.is_file() or not p.with_suffix(".json").is_file()]
    if missing:
        pytest.skip(f"shipped models not present yet: {', '.join(str(p) for p in missing)} (+ metadata .json)")
    return Pipeline.from_config()


def test_replay_with_the_shipped_models(pipeline, tmp_path):
    from crowd_perception.synth import generate

    bagio.write_synthetic_bag(itertools.islice(generate("demo"), 2), tmp_path / "in")
    report = replay_bag(tmp_path / "in", tmp_path / "out", pipeline)
    assert (report.frames, report.processed, report.failed) == (2, 2, [])
    with bagio.BagReader(tmp_path / "out") as reader:
        frame = list(reader.frames())[-1]
    _, detections = convert.detections_from_msg(frame.messages[bagio.OUTPUT_TOPICS["detections"]])
    _, poses = convert.poses2d_from_msg(frame.messages[bagio.OUTPUT_TOPICS["poses_2d"]])
    _, poses3d = convert.poses3d_from_msg(frame.messages[bagio.OUTPUT_TOPICS["poses_3d"]])
    _, tracks = convert.tracks_from_msg(frame.messages[bagio.OUTPUT_TOPICS["tracks"]])
    assert len(poses) == int((detections.scores >= pipeline.pose.config.min_box_score).sum())
    assert detections.embeddings.shape[1] > 0  # JDE embeddings reach the tracker
    assert np.all(poses3d.placed_with_intrinsics)  # the bag's CameraInfo was used
    assert len(tracks) > 0 or len(detections) == 0
