"""Frame-locked replay: every frame processed (or a counted failure), input topics kept, outputs
stamped with their image's header, bit-for-bit repeatable, readable back with our definitions."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.ros import bag as bagio
from crowd_perception.ros import convert
from crowd_perception.ros.replay import Pipeline, replay_bag

from .nodes_fakes import FakeDetector, FakePose3DEstimator, FakePoseEstimator
from .samples import make_samples


def _pipeline(**override_runners) -> Pipeline:
    runners = {"detector": FakeDetector(), "occluded_pose": FakePoseEstimator("body22"),
               "pose3d": FakePose3DEstimator()}
    runners.update(override_runners)
    return Pipeline.from_config(runners=runners)  # the shipped config/crowd_perception.yaml


@pytest.fixture
def input_bag(tmp_path):
    path = tmp_path / "in"
    bagio.write_synthetic_bag(make_samples(5), path)
    return path


def test_replay_processes_every_frame_and_keeps_input_topics(tmp_path, input_bag):
    report = replay_bag(input_bag, tmp_path / "out", _pipeline())
    assert (report.frames, report.processed, report.failed) == (5, 5, [])
    assert set(report.stage_seconds) == {"detector", "occluded_pose", "pose3d", "tracker"} and report.fps > 0
    with bagio.BagReader(tmp_path / "out") as reader:
        assert set(bagio.OUTPUT_TOPICS.values()) | {bagio.IMAGE_TOPIC, bagio.GT_TRACKS_TOPIC} <= set(reader.topics)
        frames = list(reader.frames())
    assert len(frames) == 5
    for frame in frames:
        header, tracks = convert.tracks_from_msg(frame.messages[bagio.OUTPUT_TOPICS["tracks"]])
        assert header == frame.header
        _, dets = convert.detections_from_msg(frame.messages[bagio.OUTPUT_TOPICS["detections"]])
        assert dets.boxes[0, 0] == pytest.approx(frame.image.mean(), abs=1e-3)  # output of this very image
        _, poses3d = convert.poses3d_from_msg(frame.messages[bagio.OUTPUT_TOPICS["poses_3d"]])
        assert poses3d.placed_with_intrinsics.all()  # the bag's CameraInfo reached the 3D stage
        assert bagio.annotation_from_messages(frame) is not None  # ground truth kept
    assert tracks.poses_2d is not None  # config attaches poses to tracks


def test_replay_is_bit_for_bit_repeatable(tmp_path, input_bag):
    for run in ("a", "b"):  # same bag name (it is written into the files), different folders
        (tmp_path / run).mkdir()
        replay_bag(input_bag, tmp_path / run / "out", _pipeline())
    for name in ("out.mcap", "metadata.yaml"):
        assert (tmp_path / "a" / "out" / name).read_bytes() == (tmp_path / "b" / "out" / name).read_bytes()


def test_failing_frames_are_counted_not_lost(tmp_path, input_bag):
    class Flaky(FakeDetector):
        def detect(self, image):
            if self.calls == 2:
                self.calls += 1
                raise RuntimeError("bad frame")
            return super().detect(image)

    report = replay_bag(input_bag, tmp_path / "out", _pipeline(detector=Flaky()))
    assert report.frames == 5 and report.processed == 4 and report.failed == [(2, "RuntimeError: bad frame")]
    assert "1 failed" in report.summary()


def test_replaying_an_output_bag_replaces_old_outputs(tmp_path, input_bag):
    replay_bag(input_bag, tmp_path / "once", _pipeline())
    report = replay_bag(tmp_path / "once", tmp_path / "twice", _pipeline())
    assert set(report.skipped_topics) == set(bagio.OUTPUT_TOPICS.values()) and report.processed == 5


def test_unknown_stage_and_missing_detector():
    with pytest.raises(ValueError, match="unknown stages"):
        Pipeline.from_config(stages=("segmenter",))
    with pytest.raises(ValueError, match="need the detector"):
        Pipeline.from_config(stages=("tracker",))


def test_detector_only_pipeline(tmp_path, input_bag):
    pipeline = Pipeline.from_config(stages=("detector",), runners={"detector": FakeDetector()})
    report = replay_bag(input_bag, tmp_path / "out", pipeline, storage="sqlite3")
    with bagio.BagReader(tmp_path / "out") as reader:
        assert bagio.OUTPUT_TOPICS["tracks"] not in reader.topics
        assert np.all([t for t in reader.topics])
    assert report.processed == 5
