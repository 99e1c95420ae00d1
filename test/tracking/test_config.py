"""Tracker profiles and config files."""

from __future__ import annotations

import pytest

from crowd_perception.tracking.config import TrackerConfig, get_profile, load_config


def test_jde_profile_has_the_published_defaults():
    jde = get_profile("jde")
    assert (jde.appearance_weight, jde.gating_threshold, jde.embedding_limit) == (0.98, 9.4877, 0.7)
    assert (jde.iou_limit, jde.unconfirmed_iou_limit, jde.new_track_threshold) == (0.5, 0.7, 0.5)
    assert (jde.track_buffer_frames, jde.embedding_momentum, jde.duplicate_iou) == (30, 0.9, 0.85)
    assert (jde.std_weight_position, jde.std_weight_velocity) == (1 / 20, 1 / 160)
    assert jde.appearance_metric == "euclidean" and jde.appearance_gate is None
    assert not (jde.time_based or jde.byte or jde.bounded_memory or jde.camera_motion)
    assert not (jde.iou_lost_tracks or jde.report_detection_boxes)


def test_default_profile_turns_every_improvement_on():
    default = get_profile("default")
    assert default.time_based and default.byte and default.bounded_memory and default.camera_motion
    assert default.iou_lost_tracks and default.report_detection_boxes
    assert default.appearance_metric == "cosine" and default.appearance_gate is not None


def test_load_config_with_overrides(tmp_path):
    path = tmp_path / "tracker.yaml"
    path.write_text("profile: jde\nbyte: true\ntrack_buffer_frames: 60\n")
    config = load_config(path)
    assert config == get_profile("jde").replace(byte=True, track_buffer_frames=60)
    path.write_text("profile: jde\nbuffer: 3\n")
    with pytest.raises(ValueError, match="unknown tracker settings"):
        load_config(path)


def test_invalid_values_are_rejected():
    with pytest.raises(ValueError, match="appearance_metric"):
        TrackerConfig(appearance_metric="l1")
    with pytest.raises(ValueError, match="byte_low_threshold"):
        TrackerConfig(byte=True, byte_low_threshold=0.6)
    with pytest.raises(ValueError, match="unknown tracker profile"):
        get_profile("bytetrack")
