"""``bench pipeline``: scenes from image folders, per-stage wall and CPU times of the one Pipeline, the 3D
stage overlapped in a worker thread with the same outputs, the goal verdicts computed from the figures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from crowd_perception.cli import build_parser
from crowd_perception.core.skeletons import get_skeleton
from crowd_perception.core.types import Detections, Poses2D, Poses3D
from crowd_perception.pipeline import STAGES, Pipeline
from crowd_perception.pipeline.cli import COMMANDS
from crowd_perception.pipeline.resolution import Frame, Scene, image_scene, scene_sizes, time_scene
from crowd_perception.pipeline.resolution_report import growth, render


class _Detector:
    def detect(self, image):
        n = int(image[0, 0, 0]) % 5 + 1  # the frame decides how many people
        boxes = np.array([[10 * i, 0, 10 * i + 8, 30] for i in range(n)], np.float32)
        return Detections(boxes, np.full(n, 0.9), embeddings=np.eye(n, 4, dtype=np.float32))


class _Pose2D:
    skeleton = "coco17"
    occlusion_threshold = 0.5

    def estimate(self, image, boxes):
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        return Poses2D(self.skeleton, np.zeros((len(boxes), get_skeleton(self.skeleton).num_joints, 2)), boxes=boxes)


class _Pose3D:
    def estimate(self, image, camera=None):
        n = int(image[0, 0, 0]) % 3
        return Poses3D("body22", np.full((n, get_skeleton("body22").num_joints, 3), float(image[0, 0, 1])))


def _pipeline(overlap_3d: bool) -> Pipeline:
    pipeline = Pipeline.from_config(runners={"detector": _Detector(), "pose2d": _Pose2D(), "pose3d": _Pose3D()})
    pipeline.overlap_3d = overlap_3d
    return pipeline


def _scene(frames: int = 6) -> Scene:
    gradient = np.broadcast_to(np.linspace(0, 255, 60, dtype=np.uint8)[None, :, None], (40, 60, 3))
    images = [gradient.copy() for _ in range(frames)]
    for i, image in enumerate(images):
        image[0, 0] = 7 * i + 1  # what the fake networks read
    sequence = [Frame(im, i * 10**8, None, "a" if i < frames // 2 else "b") for i, im in enumerate(images)]
    return Scene("fake", (60, 40), 3, tuple(sequence))


def test_overlapping_the_3d_stage_gives_the_same_outputs_and_times_every_stage():
    sequential, overlapped = _pipeline(False), _pipeline(True)
    for frame in _scene().frames:
        a = sequential.run(frame.image, frame.stamp_ns, None)
        b = overlapped.run(frame.image, frame.stamp_ns, None)
        np.testing.assert_array_equal(a.detections.boxes, b.detections.boxes)
        np.testing.assert_array_equal(a.poses_3d.joints_relative, b.poses_3d.joints_relative)
        assert len(a.detections) and len(a.poses_2d) == len(a.detections)
        np.testing.assert_array_equal(a.tracks.ids, b.tracks.ids)
        assert set(b.seconds) == set(b.cpu_seconds) == set(STAGES)
        assert all(v >= 0 for v in b.cpu_seconds.values())


def test_time_scene_reports_stages_end_to_end_and_counts_after_the_warmup():
    scene = _scene(6)
    row = time_scene(_pipeline(True), scene, warmup=2)
    assert row["frames"] == 4 and row["fps"] > 0
    for name in (*STAGES, "total"):
        for kind in ("wall", "cpu"):
            assert (
                row[f"{name}_{kind}_median_ms"] >= 0 and row[f"{name}_{kind}_p99_ms"] >= row[f"{name}_{kind}_median_ms"]
            )
    expected = np.mean([int(f.image[0, 0, 0]) % 5 + 1 for f in scene.frames[2:]])
    assert row["detections_mean"] == pytest.approx(expected) and row["posed_mean"] == pytest.approx(expected)


def test_image_scene_reads_each_sub_folder_as_a_sequence(tmp_path):
    for sequence, count in (("s1", 2), ("s2", 3)):
        (tmp_path / sequence).mkdir()
        for i in range(count):
            cv2.imwrite(str(tmp_path / sequence / f"{i:06d}.png"), np.full((20, 30, 3), i, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    scene = image_scene(tmp_path)
    assert [f.sequence for f in scene.frames] == ["s1#0"] * 2 + ["s2#0"] * 3
    assert [f.stamp_ns for f in scene.frames][2:4] == [0, round(1e9 / 30)]  # each sequence starts at 0
    assert scene.size == (30, 20) and scene.people is None and "30x20" in scene.label
    replayed = image_scene(tmp_path, min_frames=7)  # played twice, each play new sequences
    assert len(replayed.frames) == 10 and replayed.frames[5].sequence == "s1#1" and replayed.frames[5].stamp_ns == 0
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError):
        image_scene(tmp_path / "empty")


def _row(variant: str, scene: str, people: int | None, total: float, models: float, fps: float) -> dict:
    row = {
        "variant": variant,
        "scene": scene,
        "people": people,
        "fps": fps,
        "frames": 3,
        "detections_mean": 1.0,
        "posed_mean": 1.0,
    }
    for name in (*STAGES, "total"):
        for kind in ("wall", "cpu"):
            value = total if name == "total" else models / 2 if name in ("detector", "pose3d") else 1.0
            row[f"{name}_{kind}_median_ms"] = row[f"{name}_{kind}_p99_ms"] = value
    return row


def test_the_verdict_is_computed_from_the_figures():
    sweep = [
        _row("fp32", "960x540, 10 people", 10, 80.0, 60.0, 12.0),
        _row("fp32", "960x540, 40 people", 40, 95.0, 62.0, 10.5),
        _row("fp32", "960x540, 80 people", 80, 260.0, 100.0, 3.8),  # models x1.67, chain x3.25: both missed
    ]
    (g,) = growth(sweep)
    assert g["models"] == pytest.approx(100 / 60) and g["chain"] == pytest.approx(260 / 80)
    result = {
        "config": {"warmup": 1, "frames": 3, "setup": "auto"},
        "setup": "sequential, 1 thread per model",
        "load_average_start": 1.0,
        "load_average_end": 1.0,
        "sweep": sweep,
        "ab": [],
        "resize": [],
    }
    text = render(result)
    assert "10.5 FPS end to end, goal >= 10: reached" in text
    assert "detector + 3D x1.67 (goal <= 1.5: no)" in text and "whole chain x3.25 (goal <= 3: no)" in text
    sweep[1]["fps"] = 8.0
    assert "missed; the stage that holds it: detector" in render(result)


def test_bench_pipeline_parses_and_checks_sizes():
    args = build_parser(COMMANDS).parse_args(
        ["bench", "pipeline", "--sizes", "960x540", "--people", "10", "80", "--variants", "fp32", "--ab", "none"]
    )
    assert args.sizes == ["960x540"] and args.people == [10, 80] and args.variants == ["fp32"] and args.ab == "none"
    assert scene_sizes(["960x540", "1920X1080"]) == [(960, 540), (1920, 1080)]
    with pytest.raises(ValueError, match="WIDTHxHEIGHT"):
        scene_sizes(["960:540"])
