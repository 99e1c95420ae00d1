"""Conversions between the ROS-free core types and our / the standard ROS 2 messages.

Writers take a :class:`~crowd_perception.ros.kit.MessageKit` (rosbags classes offline, rclpy
classes in the nodes); readers accept either kind, because both expose the same attribute names.
Every array message carries the header of its source image; the readers return it as a core
:class:`~crowd_perception.core.types.Header`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import cv2
import numpy as np

from ..core.camera import PinholeCamera
from ..core.errors import CrowdPerceptionError
from ..core.skeletons import get_skeleton
from ..core.types import Detections, Header, Poses2D, Poses3D, Tracks
from .kit import MessageKit

__all__ = [
    "SUPPORTED_ENCODINGS",
    "WRITABLE_ENCODINGS",
    "ImageDecodeError",
    "UnsupportedEncodingError",
    "header_to_msg",
    "header_from_msg",
    "detections_to_msg",
    "detections_from_msg",
    "poses2d_to_msg",
    "poses2d_from_msg",
    "poses3d_to_msg",
    "poses3d_from_msg",
    "tracks_to_msg",
    "tracks_from_msg",
    "image_to_msg",
    "image_from_msg",
    "compressed_image_to_msg",
    "compressed_image_from_msg",
    "camera_to_msg",
    "camera_from_msg",
    "homography_to_msg",
    "homography_from_msg",
]

_NAN_BOX = np.full(4, np.nan, dtype=np.float32)


class ImageDecodeError(CrowdPerceptionError, ValueError):
    """An image message that cannot be turned into pixels; ``reason`` is a short key for counting
    (``"malformed image"``, ``"empty data"``, ``"truncated JPEG"``, ...)."""

    def __init__(self, message: str, reason: str = "undecodable image") -> None:
        super().__init__(message)
        self.reason = reason


class UnsupportedEncodingError(ImageDecodeError):
    """An image encoding (or compressed format) the nodes do not accept."""

    def __init__(self, message: str, reason: str = "unsupported encoding") -> None:
        super().__init__(message, reason)


# ---------------------------------------------------------------------------------------- header


def header_to_msg(header: Header, kit: MessageKit) -> Any:
    """``std_msgs/Header`` with the same stamp (split into sec / nanosec) and frame."""
    sec, nanosec = divmod(int(header.stamp_ns), 1_000_000_000)
    stamp = kit.make("builtin_interfaces/msg/Time", sec=sec, nanosec=nanosec)
    return kit.make("std_msgs/msg/Header", stamp=stamp, frame_id=header.frame_id)


def header_from_msg(msg: Any) -> Header:
    return Header(int(msg.stamp.sec) * 1_000_000_000 + int(msg.stamp.nanosec), str(msg.frame_id))


# ----------------------------------------------------------------------------------- small parts


def _box_msg(box: np.ndarray, kit: MessageKit) -> Any:
    x0, y0, x1, y1 = (float(v) for v in box)
    return kit.make("crowd_perception/msg/BoundingBox", x_min=x0, y_min=y0, x_max=x1, y_max=y1)


def _box(msg: Any) -> list[float]:
    return [msg.x_min, msg.y_min, msg.x_max, msg.y_max]


def _skeleton_msg(name: str | None, kit: MessageKit) -> Any:
    joints = list(get_skeleton(name).joints) if name else []
    return kit.make("crowd_perception/msg/Skeleton", name=name or "", joint_names=joints)


def _skeleton_name(msg: Any) -> str:
    """The skeleton named by a ``Skeleton`` message, checked against our definition."""
    skeleton = get_skeleton(msg.name)
    if list(msg.joint_names) and tuple(msg.joint_names) != skeleton.joints:
        raise ValueError(f"message joint names {list(msg.joint_names)} do not match skeleton {msg.name!r}")
    return skeleton.name


def _point_msgs(points: np.ndarray, kit: MessageKit) -> list[Any]:
    return [kit.make("geometry_msgs/msg/Point", x=float(x), y=float(y), z=float(z)) for x, y, z in points]


def _points(msgs: list[Any]) -> list[list[float]]:
    return [[p.x, p.y, p.z] for p in msgs]


# ------------------------------------------------------------------------------------ detections


def detections_to_msg(detections: Detections, header: Header, kit: MessageKit) -> Any:
    """``DetectionArray``: one ``Detection`` per row (boxes, visible boxes, score, embedding)."""
    items = [
        kit.make(
            "crowd_perception/msg/Detection",
            box=_box_msg(detections.boxes[i], kit),
            visible_box=_box_msg(detections.visible_boxes[i], kit),
            score=float(detections.scores[i]),
            embedding=kit.array(detections.embeddings[i], np.float32),
        )
        for i in range(len(detections))
    ]
    return kit.make("crowd_perception/msg/DetectionArray", header=header_to_msg(header, kit), detections=items)


def detections_from_msg(msg: Any) -> tuple[Header, Detections]:
    items = list(msg.detections)
    dims = {len(d.embedding) for d in items}
    if len(dims) > 1:
        raise ValueError(f"detections with embeddings of different lengths {sorted(dims)}")
    dim = dims.pop() if dims else 0
    detections = Detections(
        boxes=np.array([_box(d.box) for d in items], dtype=np.float32).reshape(-1, 4),
        scores=np.array([d.score for d in items], dtype=np.float32),
        visible_boxes=np.array([_box(d.visible_box) for d in items], dtype=np.float32).reshape(-1, 4),
        embeddings=np.array([np.asarray(d.embedding, dtype=np.float32) for d in items]).reshape(len(items), dim),
    )
    return header_from_msg(msg.header), detections


# ------------------------------------------------------------------------------------- 2D poses


def _pose2d_msg(poses: Poses2D, i: int, kit: MessageKit) -> Any:
    keypoints = [
        kit.make(
            "crowd_perception/msg/Keypoint2D",
            x=float(poses.keypoints[i, j, 0]),
            y=float(poses.keypoints[i, j, 1]),
            score=float(poses.scores[i, j]),
            state=int(poses.states[i, j]),
        )
        for j in range(poses.keypoints.shape[1])
    ]
    return kit.make(
        "crowd_perception/msg/Pose2D",
        box=_box_msg(poses.boxes[i], kit),
        score=float(poses.person_scores[i]),
        keypoints=keypoints,
    )


def _poses2d(skeleton: str, items: list[Any]) -> Poses2D:
    k = get_skeleton(skeleton).num_joints
    for item in items:
        if len(item.keypoints) != k:
            raise ValueError(f"pose with {len(item.keypoints)} keypoints for skeleton {skeleton!r} ({k} joints)")
    return Poses2D(
        skeleton,
        keypoints=np.array([[[kp.x, kp.y] for kp in p.keypoints] for p in items], dtype=np.float32).reshape(-1, k, 2),
        scores=np.array([[kp.score for kp in p.keypoints] for p in items], dtype=np.float32).reshape(-1, k),
        states=np.array([[kp.state for kp in p.keypoints] for p in items], dtype=np.uint8).reshape(-1, k),
        boxes=np.array([_box(p.box) for p in items], dtype=np.float32).reshape(-1, 4),
        person_scores=np.array([p.score for p in items], dtype=np.float32),
    )


def _pose_array_msg(typename: str, poses: Poses2D | Poses3D, header: Header, kit: MessageKit, pose_msg) -> Any:
    return kit.make(
        typename,
        header=header_to_msg(header, kit),
        skeleton=_skeleton_msg(poses.skeleton, kit),
        poses=[pose_msg(poses, i, kit) for i in range(len(poses))],
    )


def poses2d_to_msg(poses: Poses2D, header: Header, kit: MessageKit) -> Any:
    return _pose_array_msg("crowd_perception/msg/Pose2DArray", poses, header, kit, _pose2d_msg)


def poses2d_from_msg(msg: Any) -> tuple[Header, Poses2D]:
    return header_from_msg(msg.header), _poses2d(_skeleton_name(msg.skeleton), list(msg.poses))


# ------------------------------------------------------------------------------------- 3D poses


def _pose3d_msg(poses: Poses3D, i: int, kit: MessageKit) -> Any:
    return kit.make(
        "crowd_perception/msg/Pose3D",
        box=_box_msg(poses.boxes[i], kit),
        score=float(poses.person_scores[i]),
        joints_camera=_point_msgs(poses.joints_camera[i], kit),
        joints_relative=_point_msgs(poses.joints_relative[i], kit),
        joint_scores=kit.array(poses.scores[i], np.float32),
        placed_with_intrinsics=bool(poses.placed_with_intrinsics[i]),
    )


def _poses3d(skeleton: str, items: list[Any]) -> Poses3D:
    k = get_skeleton(skeleton).num_joints
    for item in items:
        sizes = {len(item.joints_camera), len(item.joints_relative), len(item.joint_scores)}
        if sizes != {k}:
            raise ValueError(f"3D pose with joint arrays of sizes {sorted(sizes)} for skeleton {skeleton!r} ({k})")
    return Poses3D(
        skeleton,
        joints_relative=np.array([_points(p.joints_relative) for p in items], dtype=np.float32).reshape(-1, k, 3),
        joints_camera=np.array([_points(p.joints_camera) for p in items], dtype=np.float32).reshape(-1, k, 3),
        scores=np.array([np.asarray(p.joint_scores, dtype=np.float32) for p in items]).reshape(-1, k),
        boxes=np.array([_box(p.box) for p in items], dtype=np.float32).reshape(-1, 4),
        person_scores=np.array([p.score for p in items], dtype=np.float32),
        placed_with_intrinsics=np.array([p.placed_with_intrinsics for p in items], dtype=bool),
    )


def poses3d_to_msg(poses: Poses3D, header: Header, kit: MessageKit) -> Any:
    return _pose_array_msg("crowd_perception/msg/Pose3DArray", poses, header, kit, _pose3d_msg)


def poses3d_from_msg(msg: Any) -> tuple[Header, Poses3D]:
    return header_from_msg(msg.header), _poses3d(_skeleton_name(msg.skeleton), list(msg.poses))


# ---------------------------------------------------------------------------------------- tracks


def _has_pose(poses: Poses2D | Poses3D, i: int) -> bool:
    """Whether track row ``i`` has an attached pose (attached rows are not all NaN)."""
    values = poses.keypoints[i] if isinstance(poses, Poses2D) else poses.joints_relative[i]
    return bool(np.isfinite(values).any())


def tracks_to_msg(tracks: Tracks, header: Header, kit: MessageKit) -> Any:
    """``TrackArray``; a track's ``pose_2d`` / ``pose_3d`` hold its attached pose, if any."""
    poses_2d, poses_3d = tracks.poses_2d, tracks.poses_3d
    items = []
    for i in range(len(tracks)):
        items.append(
            kit.make(
                "crowd_perception/msg/Track",
                id=int(tracks.ids[i]),
                state=int(tracks.states[i]),
                box=_box_msg(tracks.boxes[i], kit),
                velocity_x=float(tracks.velocities[i, 0]),
                velocity_y=float(tracks.velocities[i, 1]),
                age=float(tracks.ages[i]),
                hits=int(tracks.hits[i]),
                time_since_update=float(tracks.time_since_update[i]),
                score=float(tracks.scores[i]),
                pose_2d=[_pose2d_msg(poses_2d, i, kit)] if poses_2d is not None and _has_pose(poses_2d, i) else [],
                pose_3d=[_pose3d_msg(poses_3d, i, kit)] if poses_3d is not None and _has_pose(poses_3d, i) else [],
            )
        )
    return kit.make(
        "crowd_perception/msg/TrackArray",
        header=header_to_msg(header, kit),
        skeleton_2d=_skeleton_msg(poses_2d.skeleton if poses_2d is not None else None, kit),
        skeleton_3d=_skeleton_msg(poses_3d.skeleton if poses_3d is not None else None, kit),
        tracks=items,
    )


def _attached(items: list[Any], field: str, skeleton_msg: Any, build, empty) -> Any:
    """Row-aligned attached poses (NaN rows for tracks without one), or None when none are attached."""
    if not skeleton_msg.name:
        if any(getattr(t, field) for t in items):
            raise ValueError(f"tracks carry {field} but the array names no skeleton for it")
        return None
    skeleton = _skeleton_name(skeleton_msg)
    present = [i for i, t in enumerate(items) if getattr(t, field)]
    full = empty(skeleton, len(items))
    if present:
        part = build(skeleton, [getattr(items[i], field)[0] for i in present])
        for f in dataclasses.fields(full):
            if f.name != "skeleton":
                getattr(full, f.name)[present] = getattr(part, f.name)
    return full


def _nan_poses2d(skeleton: str, n: int) -> Poses2D:
    return Poses2D(skeleton, np.full((n, get_skeleton(skeleton).num_joints, 2), np.nan))


def _nan_poses3d(skeleton: str, n: int) -> Poses3D:
    return Poses3D(skeleton, np.full((n, get_skeleton(skeleton).num_joints, 3), np.nan))


def tracks_from_msg(msg: Any) -> tuple[Header, Tracks]:
    items = list(msg.tracks)
    tracks = Tracks(
        ids=np.array([t.id for t in items], dtype=np.int64),
        states=np.array([t.state for t in items], dtype=np.uint8),
        boxes=np.array([_box(t.box) for t in items], dtype=np.float32).reshape(-1, 4),
        velocities=np.array([[t.velocity_x, t.velocity_y] for t in items], dtype=np.float32).reshape(-1, 2),
        ages=np.array([t.age for t in items], dtype=np.float64),
        hits=np.array([t.hits for t in items], dtype=np.int64),
        time_since_update=np.array([t.time_since_update for t in items], dtype=np.float64),
        scores=np.array([t.score for t in items], dtype=np.float32),
        poses_2d=_attached(items, "pose_2d", msg.skeleton_2d, _poses2d, _nan_poses2d),
        poses_3d=_attached(items, "pose_3d", msg.skeleton_3d, _poses3d, _nan_poses3d),
    )
    return header_from_msg(msg.header), tracks


# ---------------------------------------------------------------------------------------- images

# encoding -> (channels, cv2 conversion to BGR or None); what we write, and read without scaling
_ENCODINGS: dict[str, tuple[int, int | None]] = {
    "bgr8": (3, None),
    "rgb8": (3, cv2.COLOR_RGB2BGR),
    "mono8": (1, cv2.COLOR_GRAY2BGR),
    "bgra8": (4, cv2.COLOR_BGRA2BGR),
    "rgba8": (4, cv2.COLOR_RGBA2BGR),
}
# further encodings read with the conversions cv_bridge uses (OpenCV names Bayer patterns by the
# second row, so ROS rggb is OpenCV's BG): encoding -> (bytes per sample, channels, conversion)
_READ_ONLY: dict[str, tuple[int, int, int | None]] = {
    "8uc1": (1, 1, cv2.COLOR_GRAY2BGR),
    "8uc3": (1, 3, None),
    "8uc4": (1, 4, cv2.COLOR_BGRA2BGR),
    "mono16": (2, 1, cv2.COLOR_GRAY2BGR),
    "16uc1": (2, 1, cv2.COLOR_GRAY2BGR),
    "bgr16": (2, 3, None),
    "rgb16": (2, 3, cv2.COLOR_RGB2BGR),
    "bgra16": (2, 4, cv2.COLOR_BGRA2BGR),
    "rgba16": (2, 4, cv2.COLOR_RGBA2BGR),
    "bayer_rggb8": (1, 1, cv2.COLOR_BayerBG2BGR),
    "bayer_bggr8": (1, 1, cv2.COLOR_BayerRG2BGR),
    "bayer_gbrg8": (1, 1, cv2.COLOR_BayerGR2BGR),
    "bayer_grbg8": (1, 1, cv2.COLOR_BayerGB2BGR),
    "bayer_rggb16": (2, 1, cv2.COLOR_BayerBG2BGR),
    "bayer_bggr16": (2, 1, cv2.COLOR_BayerRG2BGR),
    "bayer_gbrg16": (2, 1, cv2.COLOR_BayerGR2BGR),
    "bayer_grbg16": (2, 1, cv2.COLOR_BayerGB2BGR),
    "yuv422": (1, 2, cv2.COLOR_YUV2BGR_UYVY),  # ROS's "yuv422" is UYVY
    "uyvy": (1, 2, cv2.COLOR_YUV2BGR_UYVY),
    "yuv422_yuy2": (1, 2, cv2.COLOR_YUV2BGR_YUYV),
    "yuyv": (1, 2, cv2.COLOR_YUV2BGR_YUYV),
}
WRITABLE_ENCODINGS = tuple(_ENCODINGS)
SUPPORTED_ENCODINGS = WRITABLE_ENCODINGS + tuple(_READ_ONLY)


def image_from_msg(msg: Any) -> np.ndarray:
    """``sensor_msgs/Image`` -> ``(H, W, 3)`` BGR uint8 (a copy); honours row padding (``step``).

    16-bit images are scaled to 8 bits (``/ 256``, as cv_bridge does), Bayer images demosaiced,
    YUV 4:2:2 converted; :class:`ImageDecodeError` names what is wrong with a malformed message.
    """
    encoding = str(msg.encoding).lower()
    if encoding in _ENCODINGS:
        size, (channels, code) = 1, _ENCODINGS[encoding]
    elif encoding in _READ_ONLY:
        size, channels, code = _READ_ONLY[encoding]
    else:
        raise UnsupportedEncodingError(
            f"image encoding {msg.encoding!r} is not supported; expected one of {', '.join(SUPPORTED_ENCODINGS)}"
        )
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    row = width * channels * size
    data = np.frombuffer(msg.data, dtype=np.uint8)
    if data.size == 0:
        raise ImageDecodeError(f"empty {encoding} image: {width}x{height} with no data", "empty data")
    if height <= 0 or width <= 0 or step < row or data.size < step * (height - 1) + row:
        raise ImageDecodeError(
            f"malformed {encoding} image: {width}x{height}, step {step}, {data.size} bytes of data", "malformed image"
        )
    if channels == 2 and width % 2:
        raise ImageDecodeError(f"malformed {encoding} image: odd width {width} for 4:2:2 data", "malformed image")
    rows = np.ascontiguousarray(np.lib.stride_tricks.as_strided(data, shape=(height, row), strides=(step, 1)))
    if size == 2:
        samples = rows.view(">u2" if int(getattr(msg, "is_bigendian", 0)) else "<u2")
        rows = (samples >> 8).astype(np.uint8)  # the high byte: x / 256, as cv_bridge scales 16 -> 8 bits
    pixels = rows.reshape(height, width, channels) if channels > 1 else rows.reshape(height, width)
    if code is None:
        return pixels.copy()  # never a view of the message's buffer
    return cv2.cvtColor(np.ascontiguousarray(pixels), code)


def image_to_msg(image: np.ndarray, header: Header, kit: MessageKit, encoding: str = "bgr8") -> Any:
    """``(H, W, 3)`` BGR uint8 -> ``sensor_msgs/Image`` in ``encoding`` (one of the supported ones)."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 BGR image, got {image.dtype} {image.shape}")
    if encoding not in _ENCODINGS:
        raise UnsupportedEncodingError(f"cannot write encoding {encoding!r}; expected one of {tuple(_ENCODINGS)}")
    back = {"bgr8": None, "rgb8": cv2.COLOR_BGR2RGB, "mono8": cv2.COLOR_BGR2GRAY, "bgra8": cv2.COLOR_BGR2BGRA,
            "rgba8": cv2.COLOR_BGR2RGBA}[encoding]
    pixels = image if back is None else cv2.cvtColor(image, back)
    height, width = image.shape[:2]
    return kit.make(
        "sensor_msgs/msg/Image",
        header=header_to_msg(header, kit),
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=0,
        step=width * _ENCODINGS[encoding][0],
        data=kit.array(pixels, np.uint8),
    )


def compressed_image_from_msg(msg: Any) -> np.ndarray:
    """``sensor_msgs/CompressedImage`` (jpeg / png, as image_transport writes them) -> BGR uint8."""
    fmt = str(msg.format).lower()
    if not any(name in fmt for name in ("jpeg", "jpg", "png")):
        raise UnsupportedEncodingError(f"compressed format {msg.format!r} is not supported; expected jpeg or png")
    data = np.frombuffer(msg.data, dtype=np.uint8)
    if data.size == 0:
        raise ImageDecodeError(f"empty {msg.format!r} compressed image (no data)", "empty data")
    if data[:2].tobytes() == b"\xff\xd8" and not _ends_with(data, b"\xff\xd9"):
        # libjpeg decodes a cut-off JPEG with a warning and grey rows: refused, not silently wrong
        raise ImageDecodeError(f"truncated JPEG: {data.size} bytes without the end-of-image marker", "truncated JPEG")
    if data[:8].tobytes() == b"\x89PNG\r\n\x1a\n" and not _ends_with(data, b"IEND\xaeB`\x82"):
        raise ImageDecodeError(f"truncated PNG: {data.size} bytes without the IEND chunk", "truncated PNG")
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error as exc:
        raise ImageDecodeError(f"could not decode {data.size} bytes of {msg.format!r} compressed image data: "
                               f"{str(exc).strip().splitlines()[-1]}", "undecodable data") from None
    if image is None:
        raise ImageDecodeError(f"could not decode {data.size} bytes of {msg.format!r} compressed image data",
                               "undecodable data")
    return image


def _ends_with(data: np.ndarray, marker: bytes) -> bool:
    """Whether the bytes end with ``marker``, ignoring zero padding after it (some encoders pad)."""
    tail = np.flatnonzero(data[-4096:])
    end = len(data) - min(len(data), 4096) + (tail[-1] + 1 if len(tail) else 0)
    return data[max(0, end - len(marker)):end].tobytes() == marker


def compressed_image_to_msg(image: np.ndarray, header: Header, kit: MessageKit, fmt: str = "jpeg",
                            quality: int = 90) -> Any:
    """BGR uint8 -> ``sensor_msgs/CompressedImage`` (format string as image_transport's plugin writes it)."""
    if fmt not in ("jpeg", "png"):
        raise UnsupportedEncodingError(f"cannot compress as {fmt!r}; expected jpeg or png")
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if fmt == "jpeg" else []
    ok, data = cv2.imencode(".jpg" if fmt == "jpeg" else ".png", np.asarray(image), params)
    if not ok:
        raise ValueError(f"could not encode image of shape {np.shape(image)} as {fmt}")
    return kit.make(
        "sensor_msgs/msg/CompressedImage",
        header=header_to_msg(header, kit),
        format=f"bgr8; {fmt} compressed bgr8",
        data=kit.array(data, np.uint8),
    )


# ---------------------------------------------------------------------------------------- camera


def camera_from_msg(msg: Any) -> PinholeCamera:
    """``sensor_msgs/CameraInfo`` -> :class:`PinholeCamera` (``InvalidIntrinsicsError`` on NaN / zero K)."""
    return PinholeCamera.from_camera_info(list(msg.k), int(msg.width), int(msg.height), list(msg.p))


def camera_to_msg(camera: PinholeCamera, header: Header, kit: MessageKit) -> Any:
    """CameraInfo of a rectified pinhole camera (no distortion, identity R, ``P = [K | 0]``)."""
    k = camera.matrix
    p = np.hstack([k, np.zeros((3, 1))])
    roi = kit.make("sensor_msgs/msg/RegionOfInterest", x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
    return kit.make(
        "sensor_msgs/msg/CameraInfo",
        header=header_to_msg(header, kit),
        height=camera.height,
        width=camera.width,
        distortion_model="plumb_bob",
        d=kit.array(np.zeros(5), np.float64),
        k=kit.fixed(k, np.float64),
        r=kit.fixed(np.eye(3), np.float64),
        p=kit.fixed(p, np.float64),
        binning_x=0,
        binning_y=0,
        roi=roi,
    )


# ------------------------------------------------------------------------------------ homography


def homography_to_msg(matrix: np.ndarray, header: Header, kit: MessageKit) -> Any:
    """``Homography``: previous image -> current image, row-major."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.shape != (3, 3):
        raise ValueError(f"expected a 3x3 homography, got shape {matrix.shape}")
    return kit.make("crowd_perception/msg/Homography", header=header_to_msg(header, kit),
                    matrix=kit.fixed(matrix, np.float64))


def homography_from_msg(msg: Any) -> tuple[Header, np.ndarray]:
    """Header and the 3x3 matrix; a non-finite or singular matrix is an error."""
    matrix = np.asarray(msg.matrix, dtype=np.float64).reshape(3, 3)
    if not np.isfinite(matrix).all() or abs(np.linalg.det(matrix)) < 1e-12:
        raise ValueError(f"invalid homography {matrix.ravel().tolist()}")
    return header_from_msg(msg.header), matrix
