"""The tracker's state machine on scripted scenarios (boxes and embeddings written by hand)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from crowd_perception.core.types import Detections, TrackState
from crowd_perception.tracking import Tracker, get_profile

FRAME_NS = 33_333_333  # 30 fps
DIM = 8
PROFILES = ["jde", "default"]


def box(cx: float, cy: float = 300.0, w: float = 40.0, h: float = 100.0) -> list[float]:
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def identity(i: int) -> np.ndarray:
    e = np.zeros(DIM)
    e[i] = 1.0
    return e


def dets(boxes: list[list[float]], people: list[int], scores: float | list[float] = 0.9) -> Detections:
    n = len(boxes)
    return Detections(
        np.asarray(boxes, dtype=float).reshape(n, 4),
        np.broadcast_to(np.asarray(scores, dtype=float), (n,)),
        embeddings=np.array([identity(p) for p in people]).reshape(n, DIM),
    )


def id_at(tracks, x: float, state: TrackState = TrackState.CONFIRMED) -> int:
    """Id of the track of ``state`` whose box centre is nearest to ``x``."""
    rows = np.flatnonzero(tracks.states == state)
    assert len(rows), f"no track in state {state.name}"
    centres = (tracks.boxes[rows, 0] + tracks.boxes[rows, 2]) / 2
    return int(tracks.ids[rows[np.argmin(np.abs(centres - x))]])


@pytest.mark.parametrize("profile", PROFILES)
def test_occlusion_and_reappearance_keep_the_id(profile):
    tracker = Tracker(profile)
    first = None
    for f in range(30):
        x = 100 + 3 * f  # person 0 walks right; person 1 stands
        hidden = 10 <= f < 20
        out = tracker.update(
            dets([box(500)] + ([] if hidden else [box(x)]), [1] + ([] if hidden else [0])), f * FRAME_NS
        )
        if f == 9:
            first = id_at(out, x)
        if hidden:
            lost = out.states == TrackState.LOST
            assert out.ids[lost].tolist() == [first]
            # the lost track keeps moving with its velocity (about 90 px/s)
            assert (out.boxes[lost, 0] + out.boxes[lost, 2])[0] / 2 == pytest.approx(x, abs=6)
    assert id_at(out, 100 + 3 * 29) == first
    assert sorted(out.ids.tolist()) == [1, 2]


@pytest.mark.parametrize("profile", PROFILES)
def test_crossing_people_with_distinct_embeddings_keep_their_ids(profile):
    tracker = Tracker(profile)
    for f in range(31):
        a, b = 200 + 5 * f, 350 - 5 * f  # they overlap completely at f = 15
        out = tracker.update(dets([box(a), box(b)], [0, 1]), f * FRAME_NS)
        if f == 2:
            id_a, id_b = id_at(out, a), id_at(out, b)
    assert id_at(out, 200 + 5 * 30) == id_a
    assert id_at(out, 350 - 5 * 30) == id_b
    assert len(out) == 2


def test_dropped_frames_do_not_break_a_fast_track_when_time_based():
    tracker = Tracker("default")
    stamps = [0, 1, 2, 3, 4, 7, 8, 11, 12]  # frames 5, 6, 9 and 10 never arrive
    for f in stamps:
        out = tracker.update(dets([box(100 + 25 * f)], [0]), f * FRAME_NS)  # 750 px/s, boxes 40 px wide
        assert out.ids.tolist() == [1]
        assert out.states.tolist() == [TrackState.CONFIRMED]
    assert out.velocities[0, 0] == pytest.approx(750, rel=0.05)
    assert out.ages[0] == pytest.approx(12 * FRAME_NS * 1e-9)


@pytest.mark.parametrize("profile", PROFILES)
def test_an_empty_frame_makes_tracks_lost_not_removed(profile):
    tracker = Tracker(profile)
    for f in range(5):
        tracker.update(dets([box(100 + 2 * f)], [0]), f * FRAME_NS)
    out = tracker.update(Detections.empty(DIM), 5 * FRAME_NS)
    assert out.states.tolist() == [TrackState.LOST]
    assert out.time_since_update[0] == pytest.approx(FRAME_NS * 1e-9)
    out = tracker.update(dets([box(112)], [0]), 6 * FRAME_NS)
    assert out.ids.tolist() == [1] and out.states.tolist() == [TrackState.CONFIRMED]


@pytest.mark.parametrize("profile", PROFILES)
def test_empty_frames_and_buffer_expiry(profile):
    tracker = Tracker(profile)
    assert len(tracker.update(Detections.empty(), 0)) == 0
    tracker.update(dets([box(100)], [0]), FRAME_NS)
    for f in range(2, 40):  # 38 frames without anybody: longer than 30 frames and 1 s
        out = tracker.update(Detections.empty(DIM), f * FRAME_NS)
    assert len(out) == 0


@pytest.mark.parametrize("profile", PROFILES)
def test_backwards_time_resets_with_a_warning(profile, caplog):
    tracker = Tracker(profile)
    for f in range(3):
        tracker.update(dets([box(100)], [0]), (10 + f) * FRAME_NS)
    with caplog.at_level(logging.WARNING):
        out = tracker.update(dets([box(300)], [1]), 5 * FRAME_NS)
    assert "backwards" in caplog.text
    # a fresh start (confirmed at once, as in any first frame), and ids are never reused
    assert out.ids.tolist() == [2] and out.states.tolist() == [TrackState.CONFIRMED]


def test_ids_are_per_tracker_instance():
    a, b = Tracker("jde"), Tracker("jde")
    a.update(dets([box(100), box(300)], [0, 1]), 0)
    assert b.update(dets([box(100)], [0]), 0).ids.tolist() == [1]


@pytest.mark.parametrize("profile", PROFILES)
def test_new_tracks_are_tentative_until_matched_again(profile):
    tracker = Tracker(profile)
    tracker.update(dets([box(100)], [0]), 0)
    out = tracker.update(dets([box(100), box(400)], [0, 1]), FRAME_NS)
    assert dict(zip(out.ids.tolist(), out.states.tolist(), strict=True)) == {
        1: TrackState.CONFIRMED,
        2: TrackState.TENTATIVE,
    }
    out = tracker.update(dets([box(100), box(401)], [0, 1]), 2 * FRAME_NS)
    assert out.states.tolist() == [TrackState.CONFIRMED, TrackState.CONFIRMED]
    # a one-frame false positive is removed when not seen again
    tracker.update(dets([box(100), box(401), box(700)], [0, 1, 2]), 3 * FRAME_NS)
    out = tracker.update(dets([box(100), box(401)], [0, 1]), 4 * FRAME_NS)
    assert out.ids.tolist() == [1, 2]


@pytest.mark.parametrize(("profile", "state"), [("jde", TrackState.LOST), ("default", TrackState.CONFIRMED)])
def test_byte_keeps_a_track_through_low_scores(profile, state):
    tracker = Tracker(profile)
    for f in range(5):
        tracker.update(dets([box(100 + f)], [0]), f * FRAME_NS)
    out = tracker.update(dets([box(105)], [0], scores=0.3), 5 * FRAME_NS)
    assert out.ids.tolist() == [1] and out.states.tolist() == [state]


def test_duplicate_of_a_lost_track_is_removed_in_favour_of_the_older():
    tracker = Tracker("jde")
    for f in range(5):
        tracker.update(dets([box(100)], [0]), f * FRAME_NS)
    tracker.update(Detections.empty(DIM), 5 * FRAME_NS)  # track 1 lost
    # same place, unrelated appearance: no stage-1 match, lost tracks get no IoU stage -> new track 2,
    # which duplicates the older lost track 1 (IoU > 0.85) and is dropped
    out = tracker.update(dets([box(100)], [3]), 6 * FRAME_NS)
    assert out.ids.tolist() == [1] and out.states.tolist() == [TrackState.LOST]


@pytest.mark.parametrize(("iou_lost_tracks", "state"), [(True, TrackState.CONFIRMED), (False, TrackState.LOST)])
@pytest.mark.parametrize("score", [0.9, 0.3])  # the IoU fallback and the BYTE low-score stage
def test_iou_lost_tracks_recovers_a_lost_track_whose_appearance_changed(iou_lost_tracks, state, score):
    tracker = Tracker(get_profile("default").replace(iou_lost_tracks=iou_lost_tracks))
    for f in range(5):
        tracker.update(dets([box(100)], [0]), f * FRAME_NS)
    tracker.update(Detections.empty(DIM), 5 * FRAME_NS)  # track 1 lost
    # back in place, looking unrelated (occluded): stage 1 rejects the pair by appearance
    out = tracker.update(dets([box(101)], [3], scores=score), 6 * FRAME_NS)
    assert out.ids.tolist() == [1] and out.states.tolist() == [state]


def test_a_matched_track_reports_its_detection_box_when_switched_on():
    default = get_profile("default")
    on, off = Tracker(default), Tracker(default.replace(report_detection_boxes=False))
    for f, dx in enumerate([0.0, 6.0, -5.0, 4.0, -6.0, 5.0]):  # a walker seen with jittery boxes
        detection = box(100 + 3 * f + dx)
        out_on, out_off = (t.update(dets([detection], [0]), f * FRAME_NS) for t in (on, off))
    np.testing.assert_allclose(out_on.boxes[0], detection, atol=1e-4)
    assert not np.allclose(out_off.boxes[0], detection, atol=0.5)  # the Kalman posterior lags the jitter
    # a lost track has no detection: both report the same Kalman prediction
    out_on, out_off = (t.update(Detections.empty(DIM), 6 * FRAME_NS) for t in (on, off))
    assert out_on.states.tolist() == [TrackState.LOST]
    np.testing.assert_allclose(out_on.boxes, out_off.boxes)


@pytest.mark.parametrize(("camera_motion", "same_id"), [(True, True), (False, False)])
def test_camera_motion_compensation_follows_a_pan(camera_motion, same_id):
    config = get_profile("default").replace(camera_motion=camera_motion)
    tracker = Tracker(config)
    pan = np.array([[1.0, 0, -30.0], [0, 1, 0], [0, 0, 1]])  # the image moves 30 px left per frame
    no_embedding = np.zeros((1, 0))
    for f in range(12):
        x = 600 - 30 * f  # a person standing still in the world
        visible = not 4 <= f < 8
        frame = Detections(
            np.array([box(x)]) if visible else np.zeros((0, 4)),
            [0.9] if visible else [],
            embeddings=no_embedding[: int(visible)],
        )
        out = tracker.update(frame, f * FRAME_NS, homography=pan if f else None)
    assert (out.ids[out.states == TrackState.CONFIRMED].tolist() == [1]) is same_id


def test_without_embeddings_the_appearance_term_is_iou():
    tracker = Tracker("jde")
    for f in range(10):
        out = tracker.update(Detections(np.array([box(100 + 4 * f)]), [0.9]), f * FRAME_NS)
    assert out.ids.tolist() == [1] and out.states.tolist() == [TrackState.CONFIRMED]


def test_changing_embedding_size_is_an_error():
    tracker = Tracker("jde")
    tracker.update(dets([box(100)], [0]), 0)
    with pytest.raises(ValueError, match="embedding size"):
        tracker.update(Detections(np.array([box(100)]), [0.9], embeddings=np.ones((1, 4)) / 2), FRAME_NS)


def test_invalid_input_raises_before_any_state_change():
    tracker = Tracker("default")
    tracker.update(dets([box(100)], [0]), 0)
    before = (tracker.frame_id, tracker.last_stamp_ns, tracker.pool.mean.copy())
    with pytest.raises(ValueError, match="singular"):
        tracker.update(dets([box(103)], [0]), FRAME_NS, homography=np.zeros((3, 3)))
    assert (tracker.frame_id, tracker.last_stamp_ns) == before[:2]
    np.testing.assert_array_equal(tracker.pool.mean, before[2])


@pytest.mark.parametrize("bad", [[np.nan, 0, 10, 10], [0, 0, np.inf, 10], [5, 5, 5, 40], [5, 40, 20, 10]])
def test_a_bad_box_inside_a_frame_is_dropped_and_counted(bad, caplog):
    tracker = Tracker("default")
    first = tracker.update(dets([box(100), box(300)], [0, 1]), 0)
    with caplog.at_level("WARNING"):
        tracks = tracker.update(dets([box(102), bad, box(302)], [0, 2, 1]), FRAME_NS)
    assert tracker.dropped_detections == 1 and "dropped 1 of 3 detections" in caplog.text
    assert sorted(tracks.ids[tracks.time_since_update == 0]) == sorted(first.ids)  # the good ones still tracked
    assert np.isfinite(tracks.boxes).all()


def test_non_finite_scores_and_embeddings_are_dropped_too():
    tracker = Tracker("default")
    detections = dets([box(100), box(200), box(300)], [0, 1, 2])
    detections.scores[1] = np.nan
    detections.embeddings[2, 0] = np.inf
    tracks = tracker.update(detections, 0)
    assert len(tracks) == 1 and tracker.dropped_detections == 2


def test_tracks_expired_during_a_gap_are_removed_before_association():
    tracker = Tracker("default")  # time based, track_buffer_s = 1
    first = tracker.update(dets([box(100)], [0]), 0)
    tracker.update(dets([box(101)], [0]), FRAME_NS)
    gap = int(10e9)  # 10 s without frames, then someone at the same place
    later = tracker.update(dets([box(101)], [0]), FRAME_NS + gap)
    assert set(later.ids).isdisjoint(first.ids)
    # within the buffer, the same person keeps the id
    again = tracker.update(dets([box(102)], [0]), FRAME_NS + gap + FRAME_NS)
    assert set(again.ids) == set(later.ids)


def test_stamps_going_backwards_reset_and_count():
    tracker = Tracker("default")
    tracker.update(dets([box(100)], [0]), 5 * FRAME_NS)
    tracker.update(dets([box(100)], [0]), 6 * FRAME_NS)
    tracks = tracker.update(dets([box(100)], [0]), FRAME_NS)  # `ros2 bag play --loop`, a clock step
    assert tracker.resets == 1 and len(tracks) == 1 and tracks.ids[0] == 2
