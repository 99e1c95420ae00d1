"""All-in-one evaluation of a bag: perfect predictions score perfectly, broken ones do not, and
missing outputs are reported as skipped areas."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crowd_perception.core.types import Detections, Header, Poses2D, Poses3D, Tracks, TrackState
from crowd_perception.ros import bag as bagio
from crowd_perception.ros import convert
from crowd_perception.ros.evaluate import evaluate_bag

from .samples import make_samples


def _write(path, samples, perturb: float = 0.0, with_outputs=("detections", "poses_2d", "poses_3d", "tracks")):
    """A bag whose outputs are the ground truth (shifted by ``perturb`` px / m)."""
    with bagio.BagWriter(path) as writer:
        for s in samples:
            a, kit = s.annotation, writer.kit
            header = Header(a.stamp_ns, "cam")
            writer.write(bagio.IMAGE_TOPIC, convert.image_to_msg(s.image, header, kit), a.stamp_ns)
            writer.write(bagio.CAMERA_INFO_TOPIC, convert.camera_to_msg(a.camera, header, kit), a.stamp_ns)
            for topic, msg in bagio.annotation_to_messages(a, header, kit).items():
                writer.write(topic, msg, a.stamp_ns)
            p = a.persons
            n = len(p)
            outputs = {
                "detections": convert.detections_to_msg(Detections(p.boxes + perturb, np.linspace(0.9, 0.8, n)),
                                                        header, kit),
                "poses_2d": convert.poses2d_to_msg(Poses2D("body22", p.keypoints + perturb, np.ones(p.keypoints.shape[:2]),
                                                           p.keypoint_states, p.boxes, np.ones(n)), header, kit),
                "poses_3d": convert.poses3d_to_msg(Poses3D("body22", p.joints_3d * (1 + perturb / 30), p.joints_3d,
                                                           boxes=p.boxes, person_scores=np.ones(n)), header, kit),
                "tracks": convert.tracks_to_msg(Tracks(p.ids + 1, np.full(n, TrackState.CONFIRMED), p.boxes + perturb,
                                                       scores=np.ones(n)), header, kit),
            }
            for name in with_outputs:
                writer.write(bagio.OUTPUT_TOPICS[name], outputs[name], a.stamp_ns)


def test_perfect_predictions_score_perfectly(tmp_path):
    samples = make_samples(6, persons=3, width=160, height=120)
    _write(tmp_path / "bag", samples)
    result = evaluate_bag(tmp_path / "bag", out_dir=tmp_path / "report")
    assert result.frames == 6 and result.skipped == {}
    assert result.detection["ap"] == pytest.approx(1.0) and result.detection["recall"] == 1.0
    assert result.pose2d["AP"] == pytest.approx(1.0) and result.pose2d["pck_occluded"] == 1.0
    assert result.pose2d["occlusion_accuracy"] == 1.0
    assert result.pose3d["mpjpe_mm"] == pytest.approx(0.0, abs=1e-3) and result.pose3d["pck"] == 1.0
    assert result.tracking["HOTA"] == pytest.approx(100.0) and result.tracking["IDSW"] == 0
    saved = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert saved["tracking"]["MOTA"] == pytest.approx(100.0)
    assert (tmp_path / "report" / "detection_pr.png").is_file()
    assert (tmp_path / "report" / "pose3d_pck_by_distance.png").is_file()
    assert "OKS AP" in (tmp_path / "report" / "metrics.txt").read_text()


def test_wrong_predictions_score_worse(tmp_path):
    samples = make_samples(6, persons=3, width=160, height=120)
    _write(tmp_path / "bag", samples, perturb=6.0)
    result = evaluate_bag(tmp_path / "bag")
    assert result.pose2d["pck_occluded"] < 1.0 and result.pose3d["mpjpe_mm"] > 20
    assert result.tracking["HOTA"] < 100.0


def test_missing_outputs_are_skipped_with_a_reason_and_gt_from_another_bag(tmp_path):
    samples = make_samples(3)
    bagio.write_synthetic_bag(samples, tmp_path / "gt")
    _write(tmp_path / "pred", samples, with_outputs=("detections",))
    result = evaluate_bag(tmp_path / "pred", gt_bag=tmp_path / "gt")
    assert result.detection is not None and result.pose2d is None
    assert result.skipped["tracking"] == "no tracks output in the bag"
    assert "skipped" in result.table()


def test_bag_without_ground_truth_reports_what_it_can(tmp_path):
    with bagio.BagWriter(tmp_path / "b") as writer:
        writer.write(bagio.IMAGE_TOPIC, convert.image_to_msg(np.zeros((4, 4, 3), np.uint8), Header(1, "c"),
                                                             writer.kit), 1)
    result = evaluate_bag(tmp_path / "b", out_dir=tmp_path / "report")
    assert result.without_ground_truth["frames"] == 1 and result.without_ground_truth["frames with tracks"] == 0
    assert result.detection is None and result.skipped["detection"] == "no ground truth in the bag"
    assert "no ground truth  frames" in (tmp_path / "report" / "metrics.txt").read_text()
    with pytest.raises(bagio.BagError, match="no frame has ground truth"):  # a --gt bag must have some
        evaluate_bag(tmp_path / "b", tmp_path / "b")


def test_frames_without_an_output_are_scored_as_empty_not_dropped(tmp_path):
    from crowd_perception.ros.evaluate import evaluate_frames, load_evaluation_frames

    samples = make_samples(4)
    _write(tmp_path / "b", samples, with_outputs=("detections", "tracks"))
    frames = load_evaluation_frames(tmp_path / "b")
    full = evaluate_frames(frames)
    frames[1].detections = None  # e.g. a replay interrupted before this frame's output
    frames[2].tracks = None
    partial = evaluate_frames(frames)
    assert partial.missing_outputs == {"detections": 1, "tracks": 1}
    assert partial.detection is not None and partial.tracking is not None
    assert partial.detection["recall"] < full.detection["recall"]  # the frame's people count as missed
    assert "frames without detections  1 (scored as empty)" in partial.table()
