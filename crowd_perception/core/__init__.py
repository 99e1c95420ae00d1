"""ROS-free core: result types, annotations, skeletons, box geometry and the camera model."""

from .annotations import FrameAnnotation, PersonAnnotations
from .camera import InvalidIntrinsicsError, PinholeCamera
from .skeletons import SKELETONS, Skeleton, convert_keypoints, get_skeleton, joint_mapping
from .types import Detections, Header, JointState, Poses2D, Poses3D, Tracks, TrackState

__all__ = [
    "Detections",
    "FrameAnnotation",
    "Header",
    "InvalidIntrinsicsError",
    "JointState",
    "PersonAnnotations",
    "PinholeCamera",
    "Poses2D",
    "Poses3D",
    "SKELETONS",
    "Skeleton",
    "TrackState",
    "Tracks",
    "convert_keypoints",
    "get_skeleton",
    "joint_mapping",
]
