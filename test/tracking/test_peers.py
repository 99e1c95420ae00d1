"""Peer-tracker adapters: the format conversions (no peer needed), ours through the adapter, and each
installed peer tracking three well-separated people with stable ids (skipped, with the reason, where
the optional ``peers`` extra is not installed)."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.core.boxes import box_iou
from crowd_perception.core.types import Detections, TrackState
from crowd_perception.tracking import peers
from crowd_perception.tracking.config import get_profile
from crowd_perception.tracking.tracker import Tracker

BOXES = np.array([[10.0, 20.0, 50.0, 120.0], [300.0, 40.0, 340.0, 160.0], [700.0, 10.0, 760.0, 170.0]])
SCORES = np.array([0.9, 0.4, 0.75])


def _detections(boxes: np.ndarray = BOXES, scores: np.ndarray = SCORES) -> Detections:
    emb = np.eye(len(boxes), 8)
    return Detections(boxes, scores, embeddings=emb)


def test_boxmot_rows_are_xyxy_score_and_person_class():
    rows = peers.boxmot_rows(_detections())
    assert rows.shape == (3, 6) and rows.dtype == np.float32
    np.testing.assert_allclose(rows[:, :4], BOXES)
    np.testing.assert_allclose(rows[:, 4], SCORES, rtol=1e-6)
    assert (rows[:, 5] == 0).all()
    assert peers.boxmot_rows(Detections.empty(8)).shape == (0, 6)


def test_norfair_points_are_the_two_corners_scored_by_the_box():
    dets = _detections()
    corners, scores = peers.norfair_corners(dets)
    assert corners.shape == (3, 2, 2) and scores.shape == (3, 2)
    np.testing.assert_array_equal(corners[1], [[300.0, 40.0], [340.0, 160.0]])
    np.testing.assert_array_equal(scores[:, 0], dets.scores)
    np.testing.assert_array_equal(scores[:, 1], dets.scores)


def test_norfair_corner_estimates_that_crossed_still_give_a_valid_box():
    corners = np.array([[[10.0, 20.0], [50.0, 120.0]], [[52.0, 30.0], [49.0, 140.0]]])  # x crossed in the second
    np.testing.assert_array_equal(peers.corner_boxes(corners), [[10, 20, 50, 120], [49, 30, 52, 140]])


def test_boxmot_output_rows_become_confirmed_tracks_with_positive_ids():
    rows = np.array([[1, 2, 3, 4, 0, 0.8, 0, 2], [5, 6, 7, 8, 4, 0.6, 0, 0]], dtype=np.float32)
    tracks = peers.boxmot_tracks(rows)
    np.testing.assert_array_equal(tracks.ids, [1, 5])
    np.testing.assert_allclose(tracks.boxes, [[1, 2, 3, 4], [5, 6, 7, 8]])
    np.testing.assert_allclose(tracks.scores, [0.8, 0.6], rtol=1e-6)
    assert (tracks.states == TrackState.CONFIRMED).all()
    assert len(peers.boxmot_tracks(np.zeros((0, 8)))) == 0


def test_ours_through_the_adapter_is_our_tracker():
    config = get_profile("default")
    adapter, tracker = peers.build("ours", config, 30.0), Tracker(config)
    for i in range(6):
        dets = _detections(BOXES + 3.0 * i)
        stamp = i * 33_333_333
        expected, got = tracker.update(dets, stamp), adapter.tracks(adapter.step(adapter.prepare(dets, stamp)))
        np.testing.assert_array_equal(got.ids, expected.ids)
        np.testing.assert_array_equal(got.states, expected.states)
        np.testing.assert_array_equal(got.boxes, expected.boxes)


def test_unknown_tracker_is_refused():
    with pytest.raises(ValueError, match="unknown tracker 'sort'"):
        peers.build("sort", get_profile("default"), 30.0)
    with pytest.raises(ValueError, match="unknown tracker"):
        peers.build("boxmot-strongsort", get_profile("default"), 30.0)


def test_unavailable_names_the_module_that_fails_to_import(monkeypatch):
    monkeypatch.setitem(peers.PEERS, "ghost", ("numpy", "no_such_tracker_module"))
    monkeypatch.setitem(peers.PEERS, "present", ("numpy",))
    reason = peers.unavailable("ghost")
    assert reason.startswith("no_such_tracker_module: ModuleNotFoundError") and "\n" not in reason
    assert peers.unavailable("present") is None


@pytest.mark.parametrize("name", list(peers.PEERS))
def test_peer_follows_three_separate_people_with_stable_ids(name):
    reason = peers.unavailable(name)
    if reason:
        pytest.skip(f"peer {name} not installed ({peers.INSTALL}): {reason}")
    adapter = peers.build(name, get_profile("default"), 30.0)
    ids_by_person = [set() for _ in BOXES]
    reported = []
    for i in range(30):
        truth = BOXES + [2.0 * i, 0.5 * i, 2.0 * i, 0.5 * i]
        tracks = adapter.update(_detections(truth, np.full(3, 0.9)), i * 33_333_333)
        reported.append(len(tracks))
        if i >= 10 and len(tracks):  # every peer has confirmed its tracks by then
            iou = box_iou(truth, tracks.boxes.astype(np.float64))
            for person in range(3):
                best = int(np.argmax(iou[person]))
                assert iou[person, best] > 0.8  # boxes come back in our pixel frame, not rescaled or swapped
                ids_by_person[person].add(int(tracks.ids[best]))
    assert reported[-1] == 3
    assert all(len(ids) == 1 for ids in ids_by_person)  # one id per person, all the way
    assert len(set.union(*ids_by_person)) == 3 and min(set.union(*ids_by_person)) >= 1


def test_versions_name_each_package_a_peer_runs_on(monkeypatch):
    monkeypatch.setitem(peers.PEERS, "ghost", ("numpy", "no_such_tracker_module"))
    assert peers.versions("ghost") == f"numpy {np.__version__} + no_such_tracker_module (not installed)"
