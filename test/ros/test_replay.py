"""Frame-locked replay: every frame processed (or a counted failure), input topics kept, outputs
stamped with their image's header, bit-for-bit repeatable, readable back with our definitions."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.pipeline import Pipeline
from crowd_perception.ros import bag as bagio
from crowd_perception.ros import convert
from crowd_perception.ros.replay import replay_bag

from .nodes_fakes import FakeDetector, FakePose3DEstimator, FakePoseEstimator
from .samples import corrupt_chunk_bag, make_samples


def _pipeline(**override_runners) -> Pipeline:
    runners = {"detector": FakeDetector(), "pose2d": FakePoseEstimator("body22"),
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
    assert set(report.stage_seconds) == {"detector", "pose2d", "pose3d", "tracker"} and report.fps > 0
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


def test_non_finite_network_output_gives_that_frame_no_detections_and_is_counted(tmp_path, input_bag):
    from crowd_perception.core.errors import NonFiniteOutputError

    class Overflowing(FakeDetector):
        def detect(self, image):
            if self.calls == 2:
                self.calls += 1
                raise NonFiniteOutputError("fake: non-finite network output ('boxes' 0 NaN, 12 inf)")
            return super().detect(image)

    report = replay_bag(input_bag, tmp_path / "out", _pipeline(detector=Overflowing()))
    assert (report.frames, report.processed, report.failed) == (5, 5, [])
    assert report.non_finite == {"detector": 1, "pose2d": 0, "pose3d": 0}
    assert "frames with non-finite network output (that stage's result dropped): detector 1" in report.summary()
    frames, info = _outputs_per_frame(tmp_path / "out")
    counts = [len(convert.detections_from_msg(f.messages[bagio.OUTPUT_TOPICS["detections"]])[1]) for f in frames]
    assert counts == [2, 2, 0, 2, 2] and info["non_finite"]["detector"] == 1


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


# ------------------------------------------------------------------ faulty frames: skipped and counted


def _faulty_bag(path, faults: dict[int, str], n: int = 6, compressed: bool = False):
    """A bag of ``n`` synthetic frames (with ground truth) where frame i is damaged as ``faults[i]`` says."""
    from crowd_perception.core.types import Header

    samples = make_samples(n)
    with bagio.BagWriter(path) as bag:
        for i, sample in enumerate(samples):
            stamp = int(sample.annotation.stamp_ns)
            header = Header(stamp, "cam")
            fault = faults.get(i)
            if compressed:
                msg = convert.compressed_image_to_msg(sample.image, header, bag.kit, "jpeg")
                if fault == "truncated":
                    msg.data = msg.data[: len(msg.data) // 2]
                elif fault == "empty":
                    msg.data = msg.data[:0]
                bag.write(bagio.IMAGE_TOPIC + "/compressed", msg, stamp)
            else:
                msg = convert.image_to_msg(sample.image, header, bag.kit)
                if fault == "short":
                    msg.data = msg.data[:-10]
                elif fault == "mono16":  # valid, converted rather than refused
                    grey = (sample.image[..., 1].astype("<u2") << 8).tobytes()
                    msg.encoding, msg.step = "mono16", 2 * msg.width
                    msg.data = np.frombuffer(grey, dtype=np.uint8)
                elif fault == "32FC1":
                    msg.encoding = "32FC1"
                bag.write(bagio.IMAGE_TOPIC, msg, stamp)
            bag.write(bagio.CAMERA_INFO_TOPIC, convert.camera_to_msg(sample.annotation.camera, header, bag.kit), stamp)
            for topic, gt in bagio.annotation_to_messages(sample.annotation, header, bag.kit).items():
                bag.write(topic, gt, stamp)
    return [int(s.annotation.stamp_ns) for s in samples]


def _outputs_per_frame(path):
    with bagio.BagReader(path) as reader:
        frames = list(reader.frames())
        info = reader.replay_info()
    return frames, info


def test_undecodable_frames_are_skipped_with_an_empty_result_and_counted(tmp_path):
    stamps = _faulty_bag(tmp_path / "in", {1: "short", 2: "mono16", 4: "32FC1"})
    report = replay_bag(tmp_path / "in", tmp_path / "out", _pipeline())
    assert (report.frames, report.processed, report.failed) == (6, 4, [])
    assert report.skipped == [(1, "malformed image"), (4, "unsupported encoding")] and report.complete
    assert "2 skipped (1 malformed image, 1 unsupported encoding)" in report.summary()
    frames, info = _outputs_per_frame(tmp_path / "out")
    assert info == {"complete": True, "ended_early": None, "failed": 0, "frames": 6, "processed": 4,
                    "skipped": {"malformed image": 1, "unsupported encoding": 1}, "camera_info": {}, "frames_lost": 0, "flagged": {},
                    "non_finite": {"detector": 0, "pose2d": 0, "pose3d": 0}, "unposed": 0}
    assert [f.header.stamp_ns for f in frames] == stamps
    for frame in frames:  # one output of every kind per input, with the input's header
        for topic in bagio.OUTPUT_TOPICS.values():
            assert convert.header_from_msg(frame.messages[topic].header) == frame.header
    _, skipped = convert.detections_from_msg(frames[1].messages[bagio.OUTPUT_TOPICS["detections"]])
    _, converted = convert.detections_from_msg(frames[2].messages[bagio.OUTPUT_TOPICS["detections"]])
    assert len(skipped) == 0 and len(converted) > 0
    assert frames[1].fault == "malformed image" and frames[1].size == (64, 48)


def test_compressed_faults_are_skipped_and_counted(tmp_path):
    _faulty_bag(tmp_path / "in", {2: "truncated", 3: "empty"}, compressed=True)
    report = replay_bag(tmp_path / "in", tmp_path / "out", _pipeline())
    assert (report.frames, report.processed) == (6, 4)
    assert report.skipped_by_reason() == {"truncated JPEG": 1, "empty data": 1}


def test_strict_stops_at_the_first_fault(tmp_path):
    _faulty_bag(tmp_path / "in", {3: "short"})
    with pytest.raises(bagio.BagError, match="message 3: malformed bgr8 image"):
        replay_bag(tmp_path / "in", tmp_path / "out", _pipeline(), strict=True)


def test_evaluate_goes_on_over_skipped_frames(tmp_path):
    from crowd_perception.ros.evaluate import evaluate_bag

    _faulty_bag(tmp_path / "in", {1: "short"})
    replay_bag(tmp_path / "in", tmp_path / "out", _pipeline())
    result = evaluate_bag(tmp_path / "out")
    assert result.frames == 6 and result.detection is not None and result.tracking is not None


def test_replay_cli_summary_and_strict_flag(tmp_path, capsys):
    from crowd_perception.cli import main

    _faulty_bag(tmp_path / "in", {2: "short"})
    real = Pipeline.from_config
    runners = {"detector": FakeDetector(), "pose2d": FakePoseEstimator("body22"),
               "pose3d": FakePose3DEstimator()}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Pipeline, "from_config",
                   classmethod(lambda cls, *a, **k: real(*a, **{**k, "runners": runners})))
        assert main(["replay", "--bag", str(tmp_path / "in"), "--out", str(tmp_path / "out")]) == 0
        out = capsys.readouterr().out
        assert "6 frames: 5 processed, 0 failed, 1 skipped (1 malformed image)" in out
        assert "frame 2 skipped: malformed image" in out
        assert main(["replay", "--bag", str(tmp_path / "in"), "--out", str(tmp_path / "o2"), "--strict"]) == 1
        assert capsys.readouterr().err.startswith("error: bag ")


def test_replay_keeps_the_input_custom_data(tmp_path, input_bag):
    replay_bag(input_bag, tmp_path / "out", _pipeline())
    with bagio.BagReader(input_bag) as a, bagio.BagReader(tmp_path / "out") as b:
        assert a.frame_labels() and b.frame_labels() == a.frame_labels()


def test_an_interrupted_replay_is_marked_incomplete_and_evaluate_says_so(tmp_path, input_bag, capsys):
    from crowd_perception.cli import main

    def interrupt(index, outputs):
        if index == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replay_bag(input_bag, tmp_path / "out", _pipeline(), on_frame=interrupt)
    _, info = _outputs_per_frame(tmp_path / "out")
    assert info["complete"] is False and info["processed"] == 3
    assert main(["evaluate", "--bag", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert "INCOMPLETE" in captured.out and "did not finish" in captured.err


def _bag_with_camera(path, camera_for):
    """Synthetic frames whose CameraInfo is ``camera_for(i)`` (None: no CameraInfo message)."""
    from crowd_perception.core.types import Header

    with bagio.BagWriter(path) as bag:
        for i, sample in enumerate(make_samples(4)):
            stamp = int(sample.annotation.stamp_ns)
            header = Header(stamp, "cam")
            bag.write(bagio.IMAGE_TOPIC, convert.image_to_msg(sample.image, header, bag.kit), stamp)
            info = camera_for(i, sample.annotation.camera, header, bag.kit)
            if info is not None:
                bag.write(bagio.CAMERA_INFO_TOPIC, info, stamp)


def test_replay_reports_camera_info_and_honours_require_camera_info(tmp_path):
    from crowd_perception.pipeline import Pipeline

    def camera(i, cam, header, kit):
        if i == 0:
            return None  # nothing yet
        msg = convert.camera_to_msg(cam, header, kit)
        if i == 2:  # fx in the wrong unit: 1e12 px
            msg.p[0] = msg.k[0] = 1e12
        return msg

    _bag_with_camera(tmp_path / "in", camera)
    report = replay_bag(tmp_path / "in", tmp_path / "out", _pipeline())
    assert report.processed == 4 and report.camera_info == {"no CameraInfo": 1, "invalid CameraInfo": 1}
    assert "frames without a usable CameraInfo: 1 invalid CameraInfo, 1 no CameraInfo" in report.summary()
    frames, _ = _outputs_per_frame(tmp_path / "out")
    placed = [convert.poses3d_from_msg(f.messages[bagio.OUTPUT_TOPICS["poses_3d"]])[1].placed_with_intrinsics.all()
              for f in frames]
    assert placed == [False, True, False, True]  # never "placed" with fx = 1e12
    params = tmp_path / "p.yaml"
    params.write_text("/**/pose3d_node:\n  ros__parameters:\n    require_camera_info: true\n")
    runners = {"detector": FakeDetector(), "pose2d": FakePoseEstimator("body22"),
               "pose3d": FakePose3DEstimator()}
    report = replay_bag(tmp_path / "in", tmp_path / "strict_cam", Pipeline.from_config(params, runners=runners))
    frames, _ = _outputs_per_frame(tmp_path / "strict_cam")
    assert [bagio.OUTPUT_TOPICS["poses_3d"] in f.messages for f in frames] == [False, True, False, True]


def test_a_corrupt_chunk_gives_the_empty_result_for_each_of_its_frames(tmp_path):
    corrupt_chunk_bag(tmp_path / "in")
    report = replay_bag(tmp_path / "in", tmp_path / "out", _pipeline())
    corrupt = report.skipped_by_reason().get("corrupt storage", 0)
    assert report.frames == 40 and report.frames_lost == 0 and 0 < corrupt < 15
    assert report.processed + corrupt == 40 and report.complete and report.storage_gaps_s
    assert "corrupt storage" in report.summary()
    with bagio.BagReader(tmp_path / "out") as reader:
        info = reader.replay_info()
        stamps = [msg.header.stamp for _, msg in reader.read(bagio.OUTPUT_TOPICS["detections"])]
    assert info["frames_lost"] == 0 and info["skipped"] == {"corrupt storage": corrupt}
    # one output per input image at its stamp (the corrupt chunk's at their receive times), in order
    assert [s.sec * 10**9 + s.nanosec for s in stamps] == [1_000_000_000 + i * 100_000_000 for i in range(40)]
    with pytest.raises(bagio.BagError, match="checksum mismatch"):
        replay_bag(tmp_path / "in", tmp_path / "strict", _pipeline(), strict=True)


def test_black_frames_give_no_people_and_are_counted(tmp_path):
    from crowd_perception.core.types import Header

    samples = make_samples(4)
    with bagio.BagWriter(tmp_path / "in") as bag:
        for i, sample in enumerate(samples):
            stamp = int(sample.annotation.stamp_ns)
            image = np.zeros_like(sample.image) if i in (1, 2) else sample.image  # a covered lens
            bag.write(bagio.IMAGE_TOPIC, convert.image_to_msg(image, Header(stamp, "cam"), bag.kit), stamp)
    report = replay_bag(tmp_path / "in", tmp_path / "out", _pipeline())  # the shipped config: check on
    assert report.processed == 4 and report.flagged == {"constant image": 2}
    assert "images that cannot show anyone (no people reported): 2 constant image" in report.summary()
    frames, _ = _outputs_per_frame(tmp_path / "out")
    counts = [len(convert.detections_from_msg(f.messages[bagio.OUTPUT_TOPICS["detections"]])[1]) for f in frames]
    poses = [len(convert.poses3d_from_msg(f.messages[bagio.OUTPUT_TOPICS["poses_3d"]])[1]) for f in frames]
    assert counts[1] == counts[2] == 0 and counts[0] > 0 and poses[1] == poses[2] == 0
