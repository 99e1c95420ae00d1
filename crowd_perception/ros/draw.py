"""Debug drawing shared by the visualizer node and the demo video: boxes, track ids, skeletons
(occluded joints hollow, their limbs thin) and RViz ``MarkerArray`` 3D skeletons."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from ..core.skeletons import get_skeleton
from ..core.types import Detections, Header, JointState, Poses2D, Poses3D, Tracks, TrackState
from .convert import header_to_msg
from .kit import MessageKit

__all__ = ["id_color", "draw_detections", "draw_poses", "draw_tracks", "skeleton_markers"]

_GRAY = (160, 160, 160)


def id_color(track_id: int) -> tuple[int, int, int]:
    """A stable, saturated BGR colour per id (golden-ratio hue steps)."""
    hue = int((track_id * 0.618033988749895 % 1.0) * 180)
    bgr = cv2.cvtColor(np.array([[[hue, 220, 255]]], dtype=np.uint8), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


def _box(image: np.ndarray, box: np.ndarray, color, thickness: int = 2, label: str | None = None) -> None:
    if not np.isfinite(box).all():
        return
    x0, y0, x1, y1 = np.round(box).astype(int).tolist()
    cv2.rectangle(image, (x0, y0), (x1, y1), color, thickness)
    if label:
        cv2.putText(image, label, (x0, max(y0 - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, color, 1, cv2.LINE_AA)


def draw_detections(image: np.ndarray, detections: Detections, min_score: float = 0.0) -> np.ndarray:
    """Detections at or above ``min_score`` in gray with their scores (drawn in place, returned for chaining)."""
    for box, score in zip(detections.boxes, detections.scores, strict=True):
        if score >= min_score:
            _box(image, box, _GRAY, 1, f"{score:.2f}")
    return image


def draw_poses(image: np.ndarray, poses: Poses2D, colors: list[tuple[int, int, int]] | None = None) -> np.ndarray:
    """Skeletons: visible joints filled, occluded joints hollow, limbs touching an occluded joint thin."""
    skeleton = get_skeleton(poses.skeleton)
    for i in range(len(poses)):
        color = colors[i] if colors else (0, 255, 255)
        points, states = poses.keypoints[i], poses.states[i]
        ok = np.isfinite(points).all(axis=1) & (states != JointState.OUTSIDE_IMAGE)
        occluded = JointState.is_occluded(states)
        for a, b in skeleton.limbs:
            if ok[a] and ok[b]:
                thin = occluded[a] or occluded[b]
                pa, pb = tuple(np.round(points[a]).astype(int)), tuple(np.round(points[b]).astype(int))
                cv2.line(image, pa, pb, color, 1 if thin else 2, cv2.LINE_AA)
        for j in np.flatnonzero(ok):
            center = tuple(np.round(points[j]).astype(int))
            cv2.circle(image, center, 3, color, 1 if occluded[j] else -1, cv2.LINE_AA)
    return image


def draw_tracks(image: np.ndarray, tracks: Tracks, confirmed_only: bool = True) -> np.ndarray:
    """Track boxes and ids in per-id colours, with their attached 2D poses."""
    keep = tracks.states == TrackState.CONFIRMED if confirmed_only else np.ones(len(tracks), dtype=bool)
    colors = [id_color(int(i)) for i in tracks.ids]
    for i in np.flatnonzero(keep):
        if tracks.time_since_update[i] == 0:
            _box(image, tracks.boxes[i], colors[i], 2, f"#{int(tracks.ids[i])}")
    if tracks.poses_2d is not None:
        rows = np.flatnonzero(keep)
        subset = Poses2D(tracks.poses_2d.skeleton, tracks.poses_2d.keypoints[rows], states=tracks.poses_2d.states[rows])
        draw_poses(image, subset, [colors[i] for i in rows])
    return image


def skeleton_markers(poses: Poses3D, header: Header, kit: MessageKit, ids: np.ndarray | None = None,
                     namespace: str = "skeletons") -> Any:
    """``visualization_msgs/MarkerArray``: a DELETEALL, then one LINE_LIST per placed pose (camera frame, m)."""
    skeleton = get_skeleton(poses.skeleton)
    header_msg = header_to_msg(header, kit)
    markers = [kit.make("visualization_msgs/msg/Marker", header=header_msg, ns=namespace, action=3)]  # DELETEALL
    limbs = np.array(skeleton.limbs, dtype=int).reshape(-1, 2)
    for i in range(len(poses)):
        joints = poses.joints_camera[i]
        valid = np.isfinite(joints[limbs]).all(axis=(1, 2))
        if not valid.any():
            continue
        ends = joints[limbs[valid]].reshape(-1, 3)
        ident = int(ids[i]) if ids is not None else i
        b, g, r = id_color(ident)
        markers.append(kit.make(
            "visualization_msgs/msg/Marker",
            header=header_msg,
            ns=namespace,
            id=ident,
            type=5,  # LINE_LIST
            action=0,  # ADD
            pose=kit.make("geometry_msgs/msg/Pose", orientation=kit.make("geometry_msgs/msg/Quaternion", w=1.0)),
            scale=kit.make("geometry_msgs/msg/Vector3", x=0.03),
            color=kit.make("std_msgs/msg/ColorRGBA", r=r / 255, g=g / 255, b=b / 255, a=1.0),
            points=[kit.make("geometry_msgs/msg/Point", x=float(x), y=float(y), z=float(z)) for x, y, z in ends],
        ))
    return kit.make("visualization_msgs/msg/MarkerArray", markers=markers)
