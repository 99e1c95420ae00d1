"""Exact-stamp matching and the live-mode slot."""

from __future__ import annotations

import pytest

from crowd_perception.ros.sync import LatestSlot, StampSync


def test_groups_are_released_in_stamp_order_when_complete():
    sync = StampSync(("a", "b"), ("a", "b"))
    assert sync.add("a", 2, "a2") == []
    assert sync.add("a", 1, "a1") == []
    assert sync.add("b", 1, "b1") == [(1, {"a": "a1", "b": "b1"})]
    assert sync.add("b", 2, "b2") == [(2, {"a": "a2", "b": "b2"})]
    assert sync.dropped == sync.incomplete == sync.late == 0


def test_a_newer_complete_group_releases_older_ones():
    sync = StampSync(("det", "pose"), ("det",))
    sync.add("det", 1, "d1")
    sync.add("pose", 0, "orphan")  # a pose without detections
    ready = sync.add("det", 2, "d2") + sync.add("pose", 2, "p2")
    assert [stamp for stamp, _ in ready] == [0, 1, 2][1:]
    assert ready[0][1] == {"det": "d1"} and sync.incomplete == 1 and sync.dropped == 1


def test_capacity_and_late_messages():
    sync = StampSync(("a", "b"), ("a", "b"), capacity=2)
    for stamp in range(4):
        sync.add("a", stamp, stamp)
    assert sync.pending == 2 and sync.dropped == 2
    assert sync.add("b", 0, "late") == [] and sync.late == 1
    assert sync.add("b", 3, "b3") == [(3, {"a": 3, "b": "b3"})] and sync.dropped == 3


def test_invalid_setups():
    with pytest.raises(ValueError):
        StampSync(("a",), ("b",))
    with pytest.raises(ValueError):
        StampSync(("a",), ("a",), capacity=0)
    with pytest.raises(KeyError):
        StampSync(("a",), ("a",)).add("x", 1, None)


def test_latest_slot_counts_overwrites():
    slot = LatestSlot()
    assert slot.take() is None
    for i in range(3):
        slot.put(i)
    assert slot.take() == 2 and slot.dropped == 2 and slot.take() is None


def test_a_jump_back_in_time_resets_instead_of_dropping_everything():
    sync = StampSync(("det", "pose"), ("det",), capacity=2)
    for stamp in (10_000_000_000, 10_100_000_000):
        sync.add("det", stamp, stamp)
        sync.add("pose", stamp, stamp)
    assert sync.add("pose", 10_050_000_000, "slow") == [] and sync.late == 1  # late, not a jump
    assert sync.add("pose", 1, "old pose") == [] and sync.late == 2  # only required streams can reset
    assert sync.add("det", 1_000_000_000, "d") == [] and sync.resets == 1  # `ros2 bag play --loop`
    assert sync.add("pose", 1_000_000_000, "p") == [(1_000_000_000, {"det": "d", "pose": "p"})]
