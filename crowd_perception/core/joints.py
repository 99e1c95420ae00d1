"""Per-joint visibility states, in their own module so that both the result types
(:mod:`crowd_perception.core.types`) and the skeleton mappings (:mod:`crowd_perception.core.skeletons`)
import them without importing each other's module first."""

from __future__ import annotations

from enum import IntEnum

import numpy as np

__all__ = ["JointState"]


class JointState(IntEnum):
    """Per-joint visibility; the same constants are defined in ``msg/Keypoint2D.msg``."""

    UNKNOWN = 0
    VISIBLE = 1
    OCCLUDED = 2  # hidden, cause not known (what the pose network predicts)
    OCCLUDED_BY_PERSON = 3
    OCCLUDED_BY_OBJECT = 4
    SELF_OCCLUDED = 5
    OUTSIDE_IMAGE = 6

    @staticmethod
    def is_occluded(states: np.ndarray) -> np.ndarray:
        """Boolean mask of states that mean "inside the image but hidden"."""
        states = np.asarray(states)
        return (states >= JointState.OCCLUDED) & (states <= JointState.SELF_OCCLUDED)
