"""The mcap summary tells the log time of every message, even of a chunk whose payload is corrupt."""

from __future__ import annotations

from crowd_perception.ros import bag as bagio
from crowd_perception.ros.mcap_index import message_times

from .samples import corrupt_chunk_bag, make_samples


def test_indexed_times_are_the_written_receive_times_per_topic(tmp_path):
    bagio.write_synthetic_bag(make_samples(5), tmp_path / "bag")
    with bagio.BagReader(tmp_path / "bag") as reader:
        stamps = [frame.header.stamp_ns for frame in reader.frames()]
    assert message_times(tmp_path / "bag", {bagio.IMAGE_TOPIC}) == stamps
    assert message_times(tmp_path / "bag", {bagio.IMAGE_TOPIC, bagio.CAMERA_INFO_TOPIC}) == sorted(stamps * 2)
    assert message_times(tmp_path / "bag", {"/nothing"}) == []


def test_times_survive_a_corrupt_chunk_payload(tmp_path):
    corrupt_chunk_bag(tmp_path / "bag")
    assert message_times(tmp_path / "bag", {bagio.IMAGE_TOPIC}) == [1_000_000_000 + i * 100_000_000 for i in range(40)]


def test_no_usable_summary_gives_none(tmp_path):
    bagio.write_synthetic_bag(make_samples(2), tmp_path / "bag", storage="sqlite3")
    assert message_times(tmp_path / "bag", {bagio.IMAGE_TOPIC}) is None  # not mcap
    bagio.write_synthetic_bag(make_samples(2), tmp_path / "m")
    data = next((tmp_path / "m").glob("*.mcap")).read_bytes()
    (tmp_path / "cut.mcap").write_bytes(data[: len(data) // 2])
    assert message_times(tmp_path / "cut.mcap", {bagio.IMAGE_TOPIC}) is None  # truncated: no footer
