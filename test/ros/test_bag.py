"""rosbag2 I/O: synthetic bags written and read back (mcap and sqlite3), ground truth restored,
metadata that ros2 bag / Foxglove need, and clear errors for broken bags."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from crowd_perception.core.types import Detections, Header
from crowd_perception.ros import bag as bagio
from crowd_perception.ros import convert

from .samples import corrupt_chunk_bag, make_samples


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_synthetic_bag_round_trip(tmp_path, samples, storage):
    path = tmp_path / "demo"
    assert bagio.write_synthetic_bag(samples, path, storage=storage) == len(samples)
    with bagio.BagReader(path) as reader:
        assert reader.topics == {
            bagio.IMAGE_TOPIC: "sensor_msgs/msg/Image",
            bagio.CAMERA_INFO_TOPIC: "sensor_msgs/msg/CameraInfo",
            bagio.GT_DETECTIONS_TOPIC: "crowd_perception/msg/DetectionArray",
            bagio.GT_TRACKS_TOPIC: "crowd_perception/msg/TrackArray",
        }
        labels = reader.frame_labels()
        frames = list(reader.frames())
    assert len(frames) == len(samples)
    for frame, sample in zip(frames, samples, strict=True):
        expected = sample.annotation
        np.testing.assert_array_equal(frame.image, sample.image)
        assert frame.header == Header(expected.stamp_ns, "camera_optical_frame")
        assert frame.camera == expected.camera and frame.camera_error is None
        gt = bagio.annotation_from_messages(frame, labels)
        assert (gt.sequence, gt.frame_index, gt.domain, gt.image_id) == ("seq", expected.frame_index, "a",
                                                                       expected.image_id)
        for name in ("boxes", "visible_boxes", "ids", "keypoints", "keypoint_states", "joints_3d", "visible_fractions"):
            np.testing.assert_array_equal(getattr(gt.persons, name), getattr(expected.persons, name), err_msg=name)
        np.testing.assert_allclose(gt.persons.distances, expected.persons.distances, rtol=1e-6)


def test_bag_metadata_has_types_definitions_and_qos(tmp_path, samples):
    path = tmp_path / "demo"
    bagio.write_synthetic_bag(samples, path)
    meta = yaml.safe_load((path / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert meta["storage_identifier"] == "mcap" and meta["version"] == 8
    topics = {t["topic_metadata"]["name"]: t for t in meta["topics_with_message_count"]}
    assert topics[bagio.IMAGE_TOPIC]["message_count"] == len(samples)
    image_qos = yaml.safe_load(topics[bagio.IMAGE_TOPIC]["topic_metadata"]["offered_qos_profiles"])[0]
    gt_qos = yaml.safe_load(topics[bagio.GT_TRACKS_TOPIC]["topic_metadata"]["offered_qos_profiles"])[0]
    assert image_qos["reliability"] == 2 and gt_qos["reliability"] == 1  # best effort / reliable
    assert topics[bagio.GT_TRACKS_TOPIC]["topic_metadata"]["type_description_hash"].startswith("RIHS01_")
    # the mcap schema carries the full definition (what Foxglove decodes with)
    from rosbags.rosbag2 import Reader

    with Reader(path) as reader:
        conn = next(c for c in reader.connections if c.topic == bagio.GT_TRACKS_TOPIC)
        assert "MSG: crowd_perception/Track" in conn.msgdef.data


def test_bare_mcap_file_is_readable(tmp_path, samples):
    path = tmp_path / "demo"
    bagio.write_synthetic_bag(samples, path)
    (mcap,) = path.glob("*.mcap")
    with bagio.BagReader(mcap) as reader:
        assert len(list(reader.frames())) == len(samples)


def test_outputs_are_attached_by_header_stamp_not_record_order(tmp_path, samples):
    path = tmp_path / "out"
    with bagio.BagWriter(path) as writer:
        for sample in samples:
            header = Header(sample.annotation.stamp_ns, "cam")
            writer.write(bagio.IMAGE_TOPIC, convert.image_to_msg(sample.image, header, writer.kit), header.stamp_ns)
        # outputs recorded later (as a live system would), in reverse order
        for i, sample in reversed(list(enumerate(samples))):
            header = Header(sample.annotation.stamp_ns, "cam")
            dets = Detections([[i, i, i + 1, i + 1]], [0.5])
            writer.write(bagio.OUTPUT_TOPICS["detections"], convert.detections_to_msg(dets, header, writer.kit),
                         10**12 + i)
    with bagio.BagReader(path) as reader:
        frames = list(reader.frames())
    for i, frame in enumerate(frames):
        _, dets = convert.detections_from_msg(frame.messages[bagio.OUTPUT_TOPICS["detections"]])
        assert dets.boxes[0, 0] == i
        assert frame.camera is None and bagio.annotation_from_messages(frame) is None


def test_invalid_camera_info_is_reported_per_frame(tmp_path, samples):
    path = tmp_path / "bad_info"
    with bagio.BagWriter(path, storage="sqlite3") as writer:
        header = Header(samples[0].annotation.stamp_ns, "cam")
        info = convert.camera_to_msg(samples[0].annotation.camera, header, writer.kit)
        info.k[:] = 0
        info.p[:] = 0
        writer.write(bagio.CAMERA_INFO_TOPIC, info, header.stamp_ns)
        writer.write(bagio.IMAGE_TOPIC, convert.image_to_msg(samples[0].image, header, writer.kit), header.stamp_ns)
    with bagio.BagReader(path) as reader:
        (frame,) = reader.frames()
    assert frame.camera is None and "uncalibrated" in frame.camera_error


def test_compressed_image_bags(tmp_path, samples):
    path = tmp_path / "compressed"
    with bagio.BagWriter(path) as writer:
        header = Header(5, "cam")
        writer.write("/camera/image_raw/compressed",
                     convert.compressed_image_to_msg(samples[0].image, header, writer.kit, "png"), 5)
    with bagio.BagReader(path) as reader:
        (frame,) = reader.frames()
    np.testing.assert_array_equal(frame.image, samples[0].image)


def test_truncated_mcap_is_a_clear_error(tmp_path):
    path = tmp_path / "demo"
    bagio.write_synthetic_bag(make_samples(4), path)
    (mcap,) = path.glob("*.mcap")
    data = mcap.read_bytes()
    mcap.write_bytes(data[: len(data) // 2])
    with pytest.raises(bagio.BagError, match="demo"):
        with bagio.BagReader(path) as reader:
            list(reader.frames())


def test_corrupt_sqlite3_is_a_clear_error(tmp_path):
    path = tmp_path / "demo"
    bagio.write_synthetic_bag(make_samples(2), path, storage="sqlite3")
    (db,) = path.glob("*.db3")
    db.write_bytes(b"garbage" * 100)
    with pytest.raises(bagio.BagError, match="demo"):
        with bagio.BagReader(path) as reader:
            list(reader.frames())


def test_missing_bag_and_existing_output_are_clear_errors(tmp_path):
    with pytest.raises(bagio.BagError, match="does not exist"):
        bagio.BagReader(tmp_path / "nope")
    with pytest.raises(bagio.BagError, match="exists already"):
        bagio.BagWriter(tmp_path)
    with pytest.raises(ValueError, match="unknown bag storage"):
        bagio.BagWriter(tmp_path / "x", storage="rosbag1")


def test_non_increasing_stamps_are_rejected(tmp_path, samples):
    samples[1].annotation.stamp_ns = samples[0].annotation.stamp_ns
    with pytest.raises(ValueError, match="does not increase"):
        bagio.write_synthetic_bag(samples, tmp_path / "x")


def test_image_topic_choice(tmp_path, samples):
    path = tmp_path / "two"
    with bagio.BagWriter(path) as writer:
        header = Header(1, "cam")
        for topic in ("/left/image", "/right/image"):
            writer.write(topic, convert.image_to_msg(samples[0].image, header, writer.kit), 1)
    with bagio.BagReader(path) as reader:
        with pytest.raises(bagio.BagError, match="choose an image topic"):
            reader.image_topic()
        assert reader.image_topic("/right/image") == "/right/image"
        with pytest.raises(bagio.BagError, match="no image topic"):
            reader.image_topic("/camera/image_raw")


def test_unknown_and_unrelated_topics_do_not_break_reading(tmp_path, samples):
    from rosbags.rosbag2 import StoragePlugin, Writer

    path = tmp_path / "mixed"
    header = Header(samples[0].annotation.stamp_ns, "cam")
    kit = bagio.RosbagsKit()
    with Writer(path, version=8, storage_plugin=StoragePlugin.MCAP) as writer:
        vendor = writer.add_connection("/vendor/thing", "vendor_msgs/msg/Thing", msgdef="int32 x", rihs01="RIHS01_00")
        writer.write(vendor, 1, b"\x00\x01\x00\x00\x05\x00\x00\x00")
        image = writer.add_connection(bagio.IMAGE_TOPIC, "sensor_msgs/msg/Image", typestore=kit.store)
        msg = convert.image_to_msg(samples[0].image, header, kit)
        writer.write(image, 2, kit.store.serialize_cdr(msg, "sensor_msgs/msg/Image"))
    with bagio.BagReader(path) as reader:
        (frame,) = reader.frames()
    assert frame.header == header and frame.messages == {}


def test_mcap_chunks_carry_crcs_so_payload_corruption_is_detected(tmp_path, samples):
    path = tmp_path / "bag"
    bagio.write_synthetic_bag(samples, path)
    with bagio.BagReader(path) as reader:
        assert len(list(reader.frames())) == len(samples)
    mcap = next(path.glob("*.mcap"))
    data = bytearray(mcap.read_bytes())
    data[len(data) // 3] ^= 0xFF  # one flipped bit pattern inside the image payload
    mcap.write_bytes(bytes(data))
    with pytest.raises(bagio.BagError, match="checksum mismatch"), bagio.BagReader(path) as reader:
        list(reader.frames(strict=True))


def test_corrupt_chunks_are_skipped_and_reading_resumes_after_them(tmp_path):
    path = corrupt_chunk_bag(tmp_path / "bag")
    with bagio.BagReader(path) as reader:
        frames = list(reader.frames())
        assert reader.corrupt and "checksum mismatch" in reader.corrupt[0][2]
        start, end, _ = reader.corrupt[0]
    read = [f.header.stamp_ns for f in frames if f.fault is None]
    lost = [f for f in frames if f.fault is not None]
    assert 25 <= len(read) < 40 and not any(start <= s < end for s in read)
    assert read[-1] == 1_000_000_000 + 39 * 100_000_000  # reading went on to the end
    # every image of the corrupt chunk is still a frame, at its indexed receive time, in bag order
    assert [f.header.stamp_ns for f in frames] == [1_000_000_000 + i * 100_000_000 for i in range(40)]
    assert [f.index for f in frames] == list(range(40))
    assert all(f.fault == "corrupt storage" and f.image is None and start <= f.header.stamp_ns < end
               and "header is unknown" in f.fault_detail for f in lost)
