"""Plain, ROS-free result types shared by the models, the tracker, the formats and the nodes.

Each type is a struct of arrays (one row per person) so that post-processing, the tracker and
the message conversions stay vectorised. Boxes are ``xyxy`` pixels in the input image; a box or
keypoint that is unknown is NaN, never zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .joints import JointState
from .skeletons import get_skeleton

__all__ = [
    "Header",
    "JointState",
    "TrackState",
    "Detections",
    "Poses2D",
    "Poses3D",
    "Tracks",
]


@dataclass(frozen=True)
class Header:
    """Stamp (nanoseconds since the epoch, or sim time) and frame of the image a result came from."""

    stamp_ns: int = 0
    frame_id: str = ""

    @property
    def stamp_s(self) -> float:
        return self.stamp_ns * 1e-9


class TrackState(IntEnum):
    """Track life cycle; the same constants are defined in ``msg/Track.msg``."""

    TENTATIVE = 0
    CONFIRMED = 1
    LOST = 2


def _rows(array: ArrayLike | None, n: int, tail: tuple[int, ...], dtype: DTypeLike, fill: Any = np.nan) -> np.ndarray:
    """``array`` as ``(n, *tail)`` of ``dtype``, or a ``fill``-ed array when it is ``None``."""
    if array is None:
        return np.full((n, *tail), fill, dtype=dtype)
    out = np.asarray(array, dtype=dtype)
    if out.shape[:1] != (n,) or (tail and out.shape[1:] != tail):
        raise ValueError(f"expected shape ({n}, {', '.join(map(str, tail))}), got {out.shape}")
    return out


@dataclass(init=False)
class Detections:
    """Pedestrian detections of one image.

    boxes: ``(N, 4)`` full-body ``xyxy``; visible_boxes: ``(N, 4)``, NaN rows where unknown;
    scores: ``(N,)`` in [0, 1]; embeddings: ``(N, D)`` L2-normalised appearance vectors (D may be 0).
    """

    boxes: np.ndarray
    scores: np.ndarray
    visible_boxes: np.ndarray
    embeddings: np.ndarray

    def __init__(
        self,
        boxes: ArrayLike,
        scores: ArrayLike,
        visible_boxes: ArrayLike | None = None,
        embeddings: ArrayLike | None = None,
    ) -> None:
        self.boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        n = len(self.boxes)
        self.scores = _rows(scores, n, (), np.float32)
        self.visible_boxes = _rows(visible_boxes, n, (4,), np.float32)
        embeddings = np.asarray(np.zeros((n, 0)) if embeddings is None else embeddings, dtype=np.float32)
        # reshape(0, -1) is ambiguous in numpy, so an empty frame keeps its embedding width explicitly
        width = embeddings.shape[-1] if embeddings.ndim == 2 else (embeddings.size // n if n else 0)
        self.embeddings = embeddings.reshape(n, width)

    def __len__(self) -> int:
        return len(self.boxes)

    @classmethod
    def empty(cls, embedding_dim: int = 0) -> Detections:
        return cls(np.zeros((0, 4)), np.zeros(0), embeddings=np.zeros((0, embedding_dim)))

    def select(self, index: np.ndarray) -> Detections:
        """Rows picked by an integer or boolean index."""
        return Detections(self.boxes[index], self.scores[index], self.visible_boxes[index], self.embeddings[index])


@dataclass(init=False)
class Poses2D:
    """2D poses of one image, in the image's pixel frame.

    keypoints: ``(N, K, 2)`` pixel ``(x, y)``; scores: ``(N, K)`` in [0, 1];
    states: ``(N, K)`` ``JointState`` values; boxes: ``(N, 4)`` the person boxes the poses belong to;
    scores of the person: ``person_scores (N,)``.
    """

    skeleton: str
    keypoints: np.ndarray
    scores: np.ndarray
    states: np.ndarray
    boxes: np.ndarray
    person_scores: np.ndarray

    def __init__(
        self,
        skeleton: str,
        keypoints: ArrayLike,
        scores: ArrayLike | None = None,
        states: ArrayLike | None = None,
        boxes: ArrayLike | None = None,
        person_scores: ArrayLike | None = None,
    ) -> None:
        k = get_skeleton(skeleton).num_joints
        self.skeleton = skeleton
        self.keypoints = np.asarray(keypoints, dtype=np.float32).reshape(-1, k, 2)
        n = len(self.keypoints)
        self.scores = _rows(scores, n, (k,), np.float32, fill=0.0)
        self.states = _rows(states, n, (k,), np.uint8, fill=JointState.UNKNOWN)
        self.boxes = _rows(boxes, n, (4,), np.float32)
        self.person_scores = _rows(person_scores, n, (), np.float32, fill=0.0)

    def __len__(self) -> int:
        return len(self.keypoints)

    @classmethod
    def empty(cls, skeleton: str) -> Poses2D:
        return cls(skeleton, np.zeros((0, 2)))


@dataclass(init=False)
class Poses3D:
    """3D poses of one image.

    joints_camera: ``(N, K, 3)`` metres in the camera optical frame (x right, y down, z forward),
    NaN when the pose could not be placed; joints_relative: ``(N, K, 3)`` metres relative to the
    skeleton's root; scores: ``(N, K)``; placed_with_intrinsics: ``(N,)`` whether
    ``joints_camera`` came from known camera intrinsics.
    """

    skeleton: str
    joints_relative: np.ndarray
    joints_camera: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    person_scores: np.ndarray
    placed_with_intrinsics: np.ndarray

    def __init__(
        self,
        skeleton: str,
        joints_relative: ArrayLike,
        joints_camera: ArrayLike | None = None,
        scores: ArrayLike | None = None,
        boxes: ArrayLike | None = None,
        person_scores: ArrayLike | None = None,
        placed_with_intrinsics: ArrayLike | None = None,
    ) -> None:
        k = get_skeleton(skeleton).num_joints
        self.skeleton = skeleton
        self.joints_relative = np.asarray(joints_relative, dtype=np.float32).reshape(-1, k, 3)
        n = len(self.joints_relative)
        self.joints_camera = _rows(joints_camera, n, (k, 3), np.float32)
        self.scores = _rows(scores, n, (k,), np.float32, fill=0.0)
        self.boxes = _rows(boxes, n, (4,), np.float32)
        self.person_scores = _rows(person_scores, n, (), np.float32, fill=0.0)
        self.placed_with_intrinsics = _rows(placed_with_intrinsics, n, (), bool, fill=False)

    def __len__(self) -> int:
        return len(self.joints_relative)

    @classmethod
    def empty(cls, skeleton: str) -> Poses3D:
        return cls(skeleton, np.zeros((0, 3)))


@dataclass(init=False)
class Tracks:
    """Output of the tracker for one image.

    ids: ``(N,)`` stable per-tracker ids (> 0); states: ``TrackState``; boxes: ``(N, 4)`` xyxy
    (Kalman estimate); velocities: ``(N, 2)`` box-centre velocity in px/s; ages and
    time_since_update in seconds; hits: number of matched detections; scores: last detection score.
    ``poses_2d`` / ``poses_3d`` optionally hold the latest pose of each track, row-aligned
    (rows of NaN where a track has none).
    """

    ids: np.ndarray
    states: np.ndarray
    boxes: np.ndarray
    velocities: np.ndarray
    ages: np.ndarray
    hits: np.ndarray
    time_since_update: np.ndarray
    scores: np.ndarray
    poses_2d: Poses2D | None
    poses_3d: Poses3D | None

    def __init__(
        self,
        ids: ArrayLike,
        states: ArrayLike,
        boxes: ArrayLike,
        velocities: ArrayLike | None = None,
        ages: ArrayLike | None = None,
        hits: ArrayLike | None = None,
        time_since_update: ArrayLike | None = None,
        scores: ArrayLike | None = None,
        poses_2d: Poses2D | None = None,
        poses_3d: Poses3D | None = None,
    ) -> None:
        self.ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        n = len(self.ids)
        self.states = _rows(states, n, (), np.uint8)
        self.boxes = _rows(boxes, n, (4,), np.float32)
        self.velocities = _rows(velocities, n, (2,), np.float32, fill=0.0)
        self.ages = _rows(ages, n, (), np.float64, fill=0.0)
        self.hits = _rows(hits, n, (), np.int64, fill=0)
        self.time_since_update = _rows(time_since_update, n, (), np.float64, fill=0.0)
        self.scores = _rows(scores, n, (), np.float32, fill=0.0)
        self.poses_2d, self.poses_3d = poses_2d, poses_3d
        for poses in (poses_2d, poses_3d):
            if poses is not None and len(poses) != n:
                raise ValueError(f"{len(poses)} attached poses for {n} tracks")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def empty(cls) -> Tracks:
        return cls(np.zeros(0), np.zeros(0), np.zeros((0, 4)))
