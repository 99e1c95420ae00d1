"""Conversions between our ground truth and what the dataset formats can express.

Shared by the writers (body22 -> a dataset's skeleton, joint states -> COCO ``v`` flags, head
boxes from head joints) and the readers (``v`` flags -> joint states, boxes from joints).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..core.annotations import FrameAnnotation, PersonAnnotations
from ..core.boxes import xyxy_to_xywh
from ..core.skeletons import convert_keypoints, get_skeleton, joint_mapping
from ..core.types import JointState

__all__ = [
    "convert_persons",
    "convert_annotation",
    "coco_flags",
    "states_from_coco_flags",
    "keypoint_boxes",
    "head_boxes",
    "xywh_list",
]


def convert_persons(persons: PersonAnnotations, skeleton: str) -> PersonAnnotations:
    """The same people with keypoints, states and 3D joints in ``skeleton``'s order.

    Joints the source skeleton lacks become NaN / ``UNKNOWN``.
    """
    if persons.skeleton == skeleton:
        return persons
    mapping = joint_mapping(persons.skeleton, skeleton)
    states = np.take(persons.keypoint_states, np.clip(mapping, 0, None), axis=1)
    states[:, mapping < 0] = JointState.UNKNOWN
    return dataclasses.replace(
        persons,
        skeleton=skeleton,
        keypoints=convert_keypoints(persons.keypoints, persons.skeleton, skeleton),
        keypoint_states=states,
        joints_3d=convert_keypoints(persons.joints_3d, persons.skeleton, skeleton),
    )


def convert_annotation(annotation: FrameAnnotation, skeleton: str) -> FrameAnnotation:
    """``annotation`` with its persons converted to ``skeleton`` (everything else shared)."""
    return dataclasses.replace(annotation, persons=convert_persons(annotation.persons, skeleton))


def coco_flags(keypoints: np.ndarray, states: np.ndarray, width: int, height: int) -> np.ndarray:
    """COCO ``v`` flags: 2 labelled and visible, 1 labelled but hidden, 0 not labelled.

    A joint is labelled when its position is known, inside the image and its state is neither
    ``UNKNOWN`` nor ``OUTSIDE_IMAGE`` (COCO only annotates joints inside the image).
    """
    x, y = keypoints[..., 0], keypoints[..., 1]
    inside = np.isfinite(x) & np.isfinite(y) & (x >= 0) & (x < width) & (y >= 0) & (y < height)
    labelled = inside & (states != JointState.UNKNOWN) & (states != JointState.OUTSIDE_IMAGE)
    return np.where(labelled, np.where(states == JointState.VISIBLE, 2, 1), 0).astype(np.int64)


def states_from_coco_flags(flags: np.ndarray) -> np.ndarray:
    """``v`` flags -> ``JointState``: 2 ``VISIBLE``, 1 ``OCCLUDED`` (cause not annotated), 0 ``UNKNOWN``."""
    flags = np.asarray(flags)
    states = np.full(flags.shape, JointState.UNKNOWN, dtype=np.uint8)
    states[flags == 1] = JointState.OCCLUDED
    states[flags == 2] = JointState.VISIBLE
    return states


def keypoint_boxes(keypoints: np.ndarray) -> np.ndarray:
    """``(N, K, 2)`` -> ``(N, 4)`` xyxy extent of each person's known keypoints (NaN row if none)."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    known = np.isfinite(keypoints).all(-1, keepdims=True)
    lo = np.where(known, keypoints, np.inf).min(1)
    hi = np.where(known, keypoints, -np.inf).max(1)
    boxes = np.concatenate([lo, hi], 1)
    boxes[~known.any((1, 2))] = np.nan
    return boxes.astype(np.float32)


_FACE = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")


def head_boxes(persons: PersonAnnotations, chin_fraction: float = 0.85, aspect: float = 0.8) -> np.ndarray:
    """``(N, 4)`` xyxy head boxes (CrowdHuman ``hbox``) derived from the head joints.

    The head spans from ``head_top`` to the chin, taken as ``chin_fraction`` of the way to the
    ``neck`` joint; its width is ``aspect`` times that height. The box is then grown to contain
    the face points (nose, eyes, ears) so a turned or tilted head stays covered. Rows are NaN
    when ``head_top`` or ``neck`` is unknown.
    """
    skeleton = get_skeleton(persons.skeleton)
    if "head_top" not in skeleton.joints or "neck" not in skeleton.joints:
        return np.full((len(persons), 4), np.nan, dtype=np.float32)
    kp = persons.keypoints.astype(np.float64)
    top, neck = kp[:, skeleton.index("head_top")], kp[:, skeleton.index("neck")]
    chin = top + chin_fraction * (neck - top)
    head_height = np.linalg.norm(chin - top, axis=1)
    centre = (top + chin) / 2
    half = np.stack([aspect * head_height, head_height], 1) / 2
    boxes = np.concatenate([centre - half, centre + half], 1)
    face = [skeleton.index(j) for j in _FACE if j in skeleton.joints]
    if face:
        face_boxes = keypoint_boxes(kp[:, face]).astype(np.float64)
        has_face = np.isfinite(face_boxes).all(1) & np.isfinite(boxes).all(1)
        boxes[has_face, :2] = np.minimum(boxes[has_face, :2], face_boxes[has_face, :2])
        boxes[has_face, 2:] = np.maximum(boxes[has_face, 2:], face_boxes[has_face, 2:])
    return boxes.astype(np.float32)



def xywh_list(box_xyxy: np.ndarray, digits: int = 2) -> list[float]:
    """One ``xyxy`` box as the ``[x, y, w, h]`` list the JSON formats store, rounded to ``digits``."""
    return np.round(xyxy_to_xywh(np.asarray(box_xyxy, dtype=np.float64)), digits).tolist()
