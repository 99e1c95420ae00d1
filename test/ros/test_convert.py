"""Core <-> message conversions, with the message classes rosbags generates from our .msg files."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from crowd_perception.core.camera import InvalidIntrinsicsError, PinholeCamera
from crowd_perception.core.types import Detections, Header, JointState, Poses2D, Poses3D, Tracks, TrackState
from crowd_perception.ros import convert
from crowd_perception.ros.kit import RosbagsKit

HEADER = Header(1_700_000_000_123_456_789, "camera_optical")


@pytest.fixture(scope="module")
def kit() -> RosbagsKit:
    return RosbagsKit("jazzy")


def _cdr(kit: RosbagsKit, msg):
    """Serialise and parse back, so every test also exercises the wire format."""
    typename = type(msg).__msgtype__
    return kit.store.deserialize_cdr(kit.store.serialize_cdr(msg, typename), typename)


def _poses2d(n: int, rng) -> Poses2D:
    return Poses2D(
        "coco17",
        keypoints=rng.uniform(0, 100, (n, 17, 2)),
        scores=rng.uniform(0, 1, (n, 17)),
        states=rng.integers(0, 7, (n, 17)),
        boxes=rng.uniform(0, 100, (n, 4)),
        person_scores=rng.uniform(0, 1, n),
    )


def _poses3d(n: int, rng) -> Poses3D:
    camera = rng.normal(size=(n, 22, 3))
    camera[0] = np.nan  # a pose that could not be placed
    return Poses3D(
        "body22",
        joints_relative=rng.normal(size=(n, 22, 3)),
        joints_camera=camera,
        scores=rng.uniform(0, 1, (n, 22)),
        boxes=rng.uniform(0, 100, (n, 4)),
        person_scores=rng.uniform(0, 1, n),
        placed_with_intrinsics=np.arange(n) % 2 == 1,
    )


def test_header_golden(kit):
    msg = convert.header_to_msg(HEADER, kit)
    assert (msg.stamp.sec, msg.stamp.nanosec, msg.frame_id) == (1_700_000_000, 123_456_789, "camera_optical")
    assert convert.header_from_msg(_cdr(kit, msg)) == HEADER


def test_detections_golden_and_round_trip(kit):
    dets = Detections(
        boxes=[[10, 20, 30, 80], [5, 5, 15, 40]],
        scores=[0.9, 0.4],
        visible_boxes=[[10, 20, 30, 50], [np.nan] * 4],
        embeddings=[[0.6, 0.8], [1.0, 0.0]],
    )
    msg = convert.detections_to_msg(dets, HEADER, kit)
    first = msg.detections[0]
    assert (first.box.x_min, first.box.y_max, first.visible_box.y_max) == (10.0, 80.0, 50.0)
    assert np.isnan(msg.detections[1].visible_box.x_min)
    np.testing.assert_allclose(first.embedding, [0.6, 0.8], rtol=1e-6)
    header, back = convert.detections_from_msg(_cdr(kit, msg))
    assert header == HEADER
    for name in ("boxes", "scores", "visible_boxes", "embeddings"):
        np.testing.assert_array_equal(getattr(back, name), getattr(dets, name))


def test_empty_detections_keep_the_header(kit):
    msg = convert.detections_to_msg(Detections.empty(), HEADER, kit)
    header, back = convert.detections_from_msg(_cdr(kit, msg))
    assert header == HEADER and len(back) == 0 and back.embeddings.shape == (0, 0)


def test_mixed_embedding_lengths_are_rejected(kit):
    msg = convert.detections_to_msg(Detections([[0, 0, 1, 1]] * 2, [1, 1], embeddings=[[1.0], [1.0]]), HEADER, kit)
    msg.detections[1].embedding = np.zeros(3, dtype=np.float32)
    with pytest.raises(ValueError, match="different lengths"):
        convert.detections_from_msg(msg)


def test_poses2d_round_trip_with_skeleton_names(kit):
    poses = _poses2d(3, np.random.default_rng(0))
    msg = convert.poses2d_to_msg(poses, HEADER, kit)
    assert msg.skeleton.name == "coco17" and msg.skeleton.joint_names[0] == "nose"
    assert msg.poses[1].keypoints[4].state == poses.states[1, 4]
    header, back = convert.poses2d_from_msg(_cdr(kit, msg))
    assert header == HEADER and back.skeleton == "coco17"
    for name in ("keypoints", "scores", "states", "boxes", "person_scores"):
        np.testing.assert_array_equal(getattr(back, name), getattr(poses, name))


def test_poses2d_with_wrong_joint_count_or_names_is_rejected(kit):
    msg = convert.poses2d_to_msg(_poses2d(1, np.random.default_rng(1)), HEADER, kit)
    msg.skeleton.joint_names = list(reversed(msg.skeleton.joint_names))
    with pytest.raises(ValueError, match="do not match skeleton"):
        convert.poses2d_from_msg(msg)
    msg = convert.poses2d_to_msg(_poses2d(1, np.random.default_rng(1)), HEADER, kit)
    msg.poses[0].keypoints.pop()
    with pytest.raises(ValueError, match="16 keypoints"):
        convert.poses2d_from_msg(msg)


def test_poses3d_round_trip_keeps_nan_and_placement(kit):
    poses = _poses3d(3, np.random.default_rng(2))
    msg = convert.poses3d_to_msg(poses, HEADER, kit)
    assert [p.placed_with_intrinsics for p in msg.poses] == [False, True, False]
    header, back = convert.poses3d_from_msg(_cdr(kit, msg))
    assert header == HEADER
    assert np.isnan(back.joints_camera[0]).all()
    for name in ("joints_relative", "joints_camera", "scores", "boxes", "person_scores", "placed_with_intrinsics"):
        np.testing.assert_array_equal(getattr(back, name), getattr(poses, name))


def test_tracks_round_trip_with_attached_poses(kit):
    rng = np.random.default_rng(3)
    poses_2d = _poses2d(3, rng)
    poses_2d.keypoints[1] = np.nan  # track 1 has no 2D pose
    tracks = Tracks(
        ids=[7, 8, 9],
        states=[TrackState.CONFIRMED, TrackState.TENTATIVE, TrackState.LOST],
        boxes=rng.uniform(0, 100, (3, 4)),
        velocities=rng.normal(size=(3, 2)),
        ages=[1.5, 0.1, 3.0],
        hits=[10, 1, 20],
        time_since_update=[0.0, 0.0, 0.4],
        scores=[0.9, 0.5, 0.8],
        poses_2d=poses_2d,
        poses_3d=_poses3d(3, rng),
    )
    msg = convert.tracks_to_msg(tracks, HEADER, kit)
    assert [len(t.pose_2d) for t in msg.tracks] == [1, 0, 1]
    assert msg.tracks[2].state == TrackState.LOST and msg.tracks[0].id == 7
    header, back = convert.tracks_from_msg(_cdr(kit, msg))
    assert header == HEADER
    for name in ("ids", "states", "boxes", "velocities", "ages", "hits", "time_since_update", "scores"):
        np.testing.assert_array_equal(getattr(back, name), getattr(tracks, name))
    np.testing.assert_array_equal(back.poses_2d.keypoints, poses_2d.keypoints)  # NaN row preserved
    np.testing.assert_array_equal(back.poses_3d.joints_relative, tracks.poses_3d.joints_relative)


def test_tracks_without_poses(kit):
    tracks = Tracks([1], [TrackState.CONFIRMED], [[0, 0, 10, 20]])
    msg = convert.tracks_to_msg(tracks, HEADER, kit)
    assert msg.skeleton_2d.name == "" and msg.tracks[0].pose_2d == []
    _, back = convert.tracks_from_msg(_cdr(kit, msg))
    assert back.poses_2d is None and back.poses_3d is None


# ------------------------------------------------------------------------------------- images


@pytest.fixture
def bgr() -> np.ndarray:
    return np.random.default_rng(4).integers(0, 256, (5, 7, 3), dtype=np.uint8)


@pytest.mark.parametrize("encoding", convert.WRITABLE_ENCODINGS)
def test_image_encodings_come_back_as_bgr(kit, bgr, encoding):
    msg = _cdr(kit, convert.image_to_msg(bgr, HEADER, kit, encoding))
    assert msg.encoding == encoding and msg.step == 7 * {"mono8": 1, "bgr8": 3, "rgb8": 3}.get(encoding, 4)
    back = convert.image_from_msg(msg)
    assert back.shape == (5, 7, 3) and back.dtype == np.uint8
    if encoding == "mono8":
        gray = np.round(bgr @ np.array([0.114, 0.587, 0.299])).astype(int)
        assert np.abs(back[..., 0].astype(int) - gray).max() <= 1 and (back[..., 0] == back[..., 2]).all()
    else:
        np.testing.assert_array_equal(back, bgr)


def test_rgb8_golden_pixel(kit):
    msg = kit.make("sensor_msgs/msg/Image", header=convert.header_to_msg(HEADER, kit), height=1, width=1,
                   encoding="rgb8", is_bigendian=0, step=3, data=np.array([255, 0, 0], dtype=np.uint8))
    np.testing.assert_array_equal(convert.image_from_msg(msg), [[[0, 0, 255]]])  # red in BGR


def test_row_padding_is_honoured(kit, bgr):
    padded = np.zeros((5, 7 * 3 + 5), dtype=np.uint8)
    padded[:, :21] = bgr.reshape(5, 21)
    msg = kit.make("sensor_msgs/msg/Image", header=convert.header_to_msg(HEADER, kit), height=5, width=7,
                   encoding="bgr8", is_bigendian=0, step=26, data=padded.reshape(-1))
    np.testing.assert_array_equal(convert.image_from_msg(msg), bgr)


@pytest.mark.parametrize("encoding", ["32FC1", "64FC1", "yuv444", "jpeg"])
def test_unsupported_encodings_are_rejected(kit, encoding):
    msg = kit.make("sensor_msgs/msg/Image", header=convert.header_to_msg(HEADER, kit), height=1, width=1,
                   encoding=encoding, is_bigendian=0, step=4, data=np.zeros(4, dtype=np.uint8))
    with pytest.raises(convert.UnsupportedEncodingError, match=encoding) as info:
        convert.image_from_msg(msg)
    assert info.value.reason == "unsupported encoding"


def _raw(kit, encoding, pixels, bigendian=0):
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    return kit.make("sensor_msgs/msg/Image", header=convert.header_to_msg(HEADER, kit), height=height, width=width,
                    encoding=encoding, is_bigendian=bigendian, step=pixels.nbytes // height,
                    data=np.frombuffer(pixels.tobytes(), dtype=np.uint8))


@pytest.mark.parametrize(("encoding", "bigendian"), [("mono16", 0), ("16UC1", 0), ("mono16", 1)])
def test_16_bit_grey_images_are_scaled_to_8_bits(kit, encoding, bigendian):
    grey = np.arange(6 * 4, dtype=np.uint16).reshape(4, 6) * 2000
    data = grey.astype(">u2" if bigendian else "<u2")
    back = convert.image_from_msg(_cdr(kit, _raw(kit, encoding, data, bigendian)))
    assert back.shape == (4, 6, 3)
    np.testing.assert_array_equal(back[..., 1], (grey >> 8).astype(np.uint8))


@pytest.mark.parametrize(("encoding", "code"), [
    ("bayer_rggb8", cv2.COLOR_BayerBG2BGR), ("bayer_bggr8", cv2.COLOR_BayerRG2BGR),
    ("bayer_gbrg8", cv2.COLOR_BayerGR2BGR), ("bayer_grbg8", cv2.COLOR_BayerGB2BGR),
])
def test_bayer_images_are_demosaiced_as_cv_bridge_does(kit, encoding, code):
    # a red scene seen through an RGGB mosaic: only the top-left sample of each 2x2 cell is lit
    mosaic = np.zeros((8, 8), dtype=np.uint8)
    offsets = {"bayer_rggb8": (0, 0), "bayer_bggr8": (1, 1), "bayer_gbrg8": (1, 0), "bayer_grbg8": (0, 1)}
    dy, dx = offsets[encoding]
    mosaic[dy::2, dx::2] = 200
    back = convert.image_from_msg(_raw(kit, encoding, mosaic))
    np.testing.assert_array_equal(back, cv2.cvtColor(mosaic, code))
    assert back[2:6, 2:6, 2].mean() > 150 and back[2:6, 2:6, :2].max() < 50  # red, in BGR order


@pytest.mark.parametrize(("encoding", "order"), [("yuv422", "uyvy"), ("uyvy", "uyvy"), ("yuyv", "yuyv"),
                                                 ("yuv422_yuy2", "yuyv")])
def test_yuv422_images_are_converted(kit, encoding, order):
    bgr = np.full((2, 4, 3), (40, 160, 220), dtype=np.uint8)  # orange
    yuv = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)
    y, u, v = yuv[..., 0], yuv[:, ::2, 1], yuv[:, ::2, 2]
    packed = np.zeros((2, 4, 2), dtype=np.uint8)
    packed[..., 0 if order == "yuyv" else 1] = y
    chroma = np.stack([u, v], axis=-1).reshape(2, 4)
    packed[..., 1 if order == "yuyv" else 0] = chroma
    back = convert.image_from_msg(_raw(kit, encoding, packed))
    # the BGR->YUV of this test is full range, cv2's 4:2:2 decoding video range: close, not equal
    assert np.abs(back.astype(int) - bgr).max() <= 40
    assert (back[..., 2] > back[..., 1]).all() and (back[..., 1] > back[..., 0]).all()  # still orange


@pytest.mark.parametrize(("data", "reason"), [(b"", "empty data"), (None, "truncated JPEG"),
                                              (b"\x00" * 50, "undecodable data")])
def test_bad_compressed_data_is_an_image_decode_error_with_a_reason(kit, data, reason):
    msg = convert.compressed_image_to_msg(np.full((32, 32, 3), 90, dtype=np.uint8), HEADER, kit, "jpeg")
    full = bytes(msg.data)
    msg.data = np.frombuffer(full[: len(full) // 2] if data is None else data, dtype=np.uint8)
    with pytest.raises(convert.ImageDecodeError) as info:
        convert.compressed_image_from_msg(msg)
    assert info.value.reason == reason


def test_a_zero_padded_jpeg_is_not_truncated(kit):
    msg = convert.compressed_image_to_msg(np.full((32, 32, 3), 90, dtype=np.uint8), HEADER, kit, "jpeg")
    msg.data = np.concatenate([msg.data, np.zeros(7, dtype=np.uint8)])
    assert convert.compressed_image_from_msg(msg).shape == (32, 32, 3)


def test_truncated_image_data_is_rejected(kit, bgr):
    msg = convert.image_to_msg(bgr, HEADER, kit)
    msg.data = msg.data[:-1]
    with pytest.raises(ValueError, match="malformed bgr8 image"):
        convert.image_from_msg(msg)


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_compressed_images(kit, fmt):
    image = np.full((16, 16, 3), (10, 120, 240), dtype=np.uint8)
    msg = _cdr(kit, convert.compressed_image_to_msg(image, HEADER, kit, fmt))
    assert fmt in msg.format
    back = convert.compressed_image_from_msg(msg)
    assert np.abs(back.astype(int) - image).max() <= (0 if fmt == "png" else 3)


def test_corrupt_or_unknown_compressed_images_are_rejected(kit):
    msg = kit.make("sensor_msgs/msg/CompressedImage", header=convert.header_to_msg(HEADER, kit), format="jpeg",
                   data=np.frombuffer(b"not a jpeg", dtype=np.uint8))
    with pytest.raises(ValueError, match="could not decode"):
        convert.compressed_image_from_msg(msg)
    msg.format = "theora"
    with pytest.raises(convert.UnsupportedEncodingError, match="theora"):
        convert.compressed_image_from_msg(msg)


# ------------------------------------------------------------------------------------- camera


def test_camera_info_round_trip(kit):
    camera = PinholeCamera(500.0, 510.0, 320.5, 240.25, 640, 480)
    msg = _cdr(kit, convert.camera_to_msg(camera, HEADER, kit))
    assert list(msg.k) == [500, 0, 320.5, 0, 510, 240.25, 0, 0, 1] and msg.p[3] == 0
    assert convert.camera_from_msg(msg) == camera


@pytest.mark.parametrize("bad", ["nan", "zero"])
def test_invalid_camera_info_is_a_clear_error(kit, bad):
    msg = convert.camera_to_msg(PinholeCamera(500, 500, 320, 240, 640, 480), HEADER, kit)
    msg.p[:] = 0
    msg.k[:] = np.nan if bad == "nan" else 0
    with pytest.raises(InvalidIntrinsicsError):
        convert.camera_from_msg(msg)


def test_joint_state_constants_survive_messages(kit):
    poses = Poses2D("ped13", np.zeros((1, 13, 2)), states=np.full((1, 13), JointState.OCCLUDED_BY_PERSON))
    msg = convert.poses2d_to_msg(poses, HEADER, kit)
    assert msg.poses[0].keypoints[0].state == type(msg.poses[0].keypoints[0]).OCCLUDED_BY_PERSON


def test_homography_round_trip_and_invalid(kit):
    h = np.array([[1.0, 0.01, 3.0], [0.0, 1.0, -2.0], [0.0, 0.0, 1.0]])
    header, back = convert.homography_from_msg(_cdr(kit, convert.homography_to_msg(h, HEADER, kit)))
    assert header == HEADER
    np.testing.assert_array_equal(back, h)
    with pytest.raises(ValueError, match="invalid homography"):
        convert.homography_from_msg(convert.homography_to_msg(np.zeros((3, 3)), HEADER, kit))
