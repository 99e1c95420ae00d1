"""Ground truth of one image, the common currency of the synthetic engine, the dataset readers,
training and evaluation.

A real dataset fills what it has and leaves the rest unknown (NaN arrays, ``None`` camera,
``None`` instance map), so every consumer checks for the fields it needs instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from .camera import PinholeCamera
from .skeletons import get_skeleton
from .types import JointState, _rows

__all__ = ["PersonAnnotations", "FrameAnnotation"]


@dataclass(init=False)
class PersonAnnotations:
    """Per-person ground truth of one image (struct of arrays, one row per person).

    boxes: ``(N, 4)`` full-body ``xyxy`` (amodal, may extend past the image);
    visible_boxes: ``(N, 4)`` box of the visible pixels (NaN if unknown, and for invisible people);
    ids: ``(N,)`` identity, -1 when unknown; keypoints: ``(N, K, 2)`` pixels (NaN if unlabelled);
    keypoint_states: ``(N, K)`` ``JointState``; joints_3d: ``(N, K, 3)`` camera frame, metres;
    distances: ``(N,)`` metres from the camera centre to the root joint;
    visible_fractions: ``(N,)`` visible pixels / amodal pixels.
    """

    skeleton: str
    boxes: np.ndarray
    visible_boxes: np.ndarray
    ids: np.ndarray
    keypoints: np.ndarray
    keypoint_states: np.ndarray
    joints_3d: np.ndarray
    distances: np.ndarray
    visible_fractions: np.ndarray

    def __init__(
        self,
        skeleton: str,
        boxes: ArrayLike,
        visible_boxes: ArrayLike | None = None,
        ids: ArrayLike | None = None,
        keypoints: ArrayLike | None = None,
        keypoint_states: ArrayLike | None = None,
        joints_3d: ArrayLike | None = None,
        distances: ArrayLike | None = None,
        visible_fractions: ArrayLike | None = None,
    ) -> None:
        k = get_skeleton(skeleton).num_joints
        self.skeleton = skeleton
        self.boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        n = len(self.boxes)
        self.visible_boxes = _rows(visible_boxes, n, (4,), np.float32)
        self.ids = _rows(ids, n, (), np.int64, fill=-1)
        self.keypoints = _rows(keypoints, n, (k, 2), np.float32)
        self.keypoint_states = _rows(keypoint_states, n, (k,), np.uint8, fill=JointState.UNKNOWN)
        self.joints_3d = _rows(joints_3d, n, (k, 3), np.float32)
        self.distances = _rows(distances, n, (), np.float32)
        self.visible_fractions = _rows(visible_fractions, n, (), np.float32)

    def __len__(self) -> int:
        return len(self.boxes)

    @classmethod
    def empty(cls, skeleton: str) -> PersonAnnotations:
        return cls(skeleton, np.zeros((0, 4)))

    def select(self, index: np.ndarray) -> PersonAnnotations:
        """Rows picked by an integer or boolean index."""
        return PersonAnnotations(
            self.skeleton,
            self.boxes[index],
            self.visible_boxes[index],
            self.ids[index],
            self.keypoints[index],
            self.keypoint_states[index],
            self.joints_3d[index],
            self.distances[index],
            self.visible_fractions[index],
        )


@dataclass
class FrameAnnotation:
    """Everything known about one image.

    ``instance_map`` is an ``(H, W)`` int32 label image: 0 background, ``i + 1`` the visible
    pixels of ``persons`` row ``i``. ``ignore_regions`` are ``(M, 4)`` ``xyxy`` boxes whose
    detections count neither as true nor false positives (CrowdHuman ``mask``, CityPersons class 0).
    """

    image_id: str
    width: int
    height: int
    persons: PersonAnnotations
    ignore_regions: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), dtype=np.float32))
    instance_map: np.ndarray | None = None
    camera: PinholeCamera | None = None
    stamp_ns: int = 0
    sequence: str = ""
    frame_index: int = 0
    domain: str = ""

    def __post_init__(self) -> None:
        self.ignore_regions = np.asarray(self.ignore_regions, dtype=np.float32).reshape(-1, 4)
        if self.instance_map is not None and self.instance_map.shape != (self.height, self.width):
            raise ValueError(f"instance map {self.instance_map.shape} does not match image {self.height}x{self.width}")

    def person_mask(self, index: int) -> np.ndarray:
        """Boolean visible-pixel mask of person ``index`` (requires ``instance_map``)."""
        if self.instance_map is None:
            raise ValueError(f"{self.image_id}: no instance masks in this annotation")
        mask: np.ndarray = self.instance_map == index + 1
        return mask
