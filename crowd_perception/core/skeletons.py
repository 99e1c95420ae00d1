"""Skeleton definitions (joint order, limbs, flip pairs, OKS sigmas) and mappings between them.

Every keypoint array in the project is ordered by one of these skeletons and carries its name
(``Skeleton.name``), which is also the ``skeleton`` string written into our ROS messages.

* ``body22`` – the synthetic engine's JTA-like 22-joint body (root: pelvis). It adds the COCO face
  points to JTA's trunk and limbs so that every other skeleton is an exact subset.
* ``jta22`` – the real JTA dataset's 22 joints (for the JTA reader).
* ``coco17`` – COCO keypoints; ``crowdpose14`` – CrowdPose; ``ped13`` – COCO without eyes/ears.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from .joints import JointState

__all__ = [
    "Skeleton",
    "BODY22",
    "JTA22",
    "COCO17",
    "CROWDPOSE14",
    "PED13",
    "SKELETONS",
    "get_skeleton",
    "joint_mapping",
    "convert_keypoints",
    "convert_joint_states",
]


@dataclass(frozen=True)
class Skeleton:
    """A named joint order with its limbs (index pairs) and left/right flip pairs.

    ``sigmas`` are the per-joint OKS constants (COCO convention: already divided by 10), or
    ``None`` where the dataset defines none.
    """

    name: str
    joints: tuple[str, ...]
    limbs: tuple[tuple[int, int], ...]
    root: int | None = None
    sigmas: tuple[float, ...] | None = None
    flip_pairs: tuple[tuple[int, int], ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        index = {name: i for i, name in enumerate(self.joints)}
        if len(index) != len(self.joints):
            raise ValueError(f"skeleton {self.name}: duplicate joint names")
        for a, b in self.limbs:
            if not (0 <= a < len(self.joints) and 0 <= b < len(self.joints)):
                raise ValueError(f"skeleton {self.name}: limb ({a}, {b}) out of range")
        if self.sigmas is not None and len(self.sigmas) != len(self.joints):
            raise ValueError(f"skeleton {self.name}: {len(self.sigmas)} sigmas for {len(self.joints)} joints")
        pairs = []
        for i, name in enumerate(self.joints):
            if name.startswith("left_"):
                mirror = "right_" + name[len("left_"):]
                if mirror in index:
                    pairs.append((i, index[mirror]))
        object.__setattr__(self, "flip_pairs", tuple(pairs))

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, joint: str) -> int:
        """Index of a joint by name (``ValueError`` if absent)."""
        return self.joints.index(joint)

    def flip_permutation(self) -> np.ndarray:
        """Permutation that swaps left and right joints (for horizontal flips)."""
        perm = np.arange(self.num_joints)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm


def _limbs(joints: tuple[str, ...], pairs: list[tuple[str, str]]) -> tuple[tuple[int, int], ...]:
    return tuple((joints.index(a), joints.index(b)) for a, b in pairs)


_COCO_JOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
_LIMB_NAMES = [
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
]
COCO17 = Skeleton(
    name="coco17",
    joints=_COCO_JOINTS,
    limbs=_limbs(
        _COCO_JOINTS,
        _LIMB_NAMES
        + [
            ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
            ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
            ("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"),
            ("right_eye", "right_ear"), ("left_ear", "left_shoulder"), ("right_ear", "right_shoulder"),
        ],
    ),
    sigmas=(0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
            0.107, 0.107, 0.087, 0.087, 0.089, 0.089),
)

_PED_JOINTS = tuple(j for j in _COCO_JOINTS if not j.endswith(("_eye", "_ear")))
PED13 = Skeleton(
    name="ped13",
    joints=_PED_JOINTS,
    limbs=_limbs(
        _PED_JOINTS,
        _LIMB_NAMES
        + [
            ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
            ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
            ("nose", "left_shoulder"), ("nose", "right_shoulder"),
        ],
    ),
    sigmas=tuple(s for j, s in zip(_COCO_JOINTS, COCO17.sigmas or (), strict=True) if j in _PED_JOINTS),
)

_CROWDPOSE_JOINTS = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "head_top", "neck",
)
CROWDPOSE14 = Skeleton(
    name="crowdpose14",
    joints=_CROWDPOSE_JOINTS,
    limbs=_limbs(
        _CROWDPOSE_JOINTS,
        _LIMB_NAMES
        + [
            ("head_top", "neck"), ("neck", "left_shoulder"), ("neck", "right_shoulder"),
            ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"), ("left_hip", "right_hip"),
        ],
    ),
    sigmas=(0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
            0.079, 0.079),
)

_BODY22_JOINTS = (
    "pelvis", "spine", "chest", "neck", "head_top", "nose",
    "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
BODY22 = Skeleton(
    name="body22",
    joints=_BODY22_JOINTS,
    limbs=_limbs(
        _BODY22_JOINTS,
        _LIMB_NAMES
        + [
            ("pelvis", "spine"), ("spine", "chest"), ("chest", "neck"), ("neck", "head_top"),
            ("neck", "nose"), ("nose", "left_eye"), ("nose", "right_eye"),
            ("left_eye", "left_ear"), ("right_eye", "right_ear"),
            ("chest", "left_shoulder"), ("chest", "right_shoulder"),
            ("pelvis", "left_hip"), ("pelvis", "right_hip"),
        ],
    ),
    root=0,
)

_JTA_JOINTS = (
    "head_top", "head_center", "neck", "right_clavicle", "right_shoulder", "right_elbow",
    "right_wrist", "left_clavicle", "left_shoulder", "left_elbow", "left_wrist",
    "spine0", "spine1", "spine2", "spine3", "spine4",
    "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
)
JTA22 = Skeleton(
    name="jta22",
    joints=_JTA_JOINTS,
    limbs=_limbs(
        _JTA_JOINTS,
        _LIMB_NAMES
        + [
            ("head_top", "head_center"), ("head_center", "neck"), ("neck", "right_clavicle"),
            ("right_clavicle", "right_shoulder"), ("neck", "left_clavicle"),
            ("left_clavicle", "left_shoulder"), ("neck", "spine0"), ("spine0", "spine1"),
            ("spine1", "spine2"), ("spine2", "spine3"), ("spine3", "spine4"),
            ("spine4", "right_hip"), ("spine4", "left_hip"),
        ],
    ),
    root=_JTA_JOINTS.index("spine4"),
)

SKELETONS: dict[str, Skeleton] = {s.name: s for s in (BODY22, JTA22, COCO17, CROWDPOSE14, PED13)}

# Joints that carry the same name in two skeletons are the same anatomical point, except the
# aliases below (source name -> target name) used where datasets name a point differently.
_ALIASES: dict[tuple[str, str], dict[str, str]] = {
    ("jta22", "body22"): {"spine4": "pelvis", "spine2": "spine", "spine0": "chest"},
    ("body22", "jta22"): {"pelvis": "spine4", "spine": "spine2", "chest": "spine0"},
}


def get_skeleton(name: str) -> Skeleton:
    """Look a skeleton up by name, with a clear error listing the known ones."""
    try:
        return SKELETONS[name]
    except KeyError:
        raise ValueError(f"unknown skeleton {name!r}; known: {sorted(SKELETONS)}") from None


@cache
def joint_mapping(source: str, target: str) -> np.ndarray:
    """For every joint of ``target``, the index of the same joint in ``source`` (or -1).

    ``convert_keypoints`` uses it; it is exposed so that models can gather joints cheaply.
    """
    src, dst = get_skeleton(source), get_skeleton(target)
    aliases = _ALIASES.get((source, target), {})
    renamed = [aliases.get(j, j) for j in src.joints]
    mapping = np.array([renamed.index(j) if j in renamed else -1 for j in dst.joints], dtype=np.int64)
    mapping.setflags(write=False)
    return mapping


def convert_keypoints(keypoints: np.ndarray, source: str, target: str, fill: float = np.nan) -> np.ndarray:
    """Reorder ``(..., K_source, C)`` keypoints into ``target``'s order.

    Joints that ``source`` does not have are set to ``fill`` (NaN by default, so that a missing
    joint is never mistaken for a real one).
    """
    keypoints = np.asarray(keypoints)
    src = get_skeleton(source)
    if keypoints.ndim < 2 or keypoints.shape[-2] != src.num_joints:
        raise ValueError(f"expected (..., {src.num_joints}, C) keypoints for {source}, got {keypoints.shape}")
    mapping = joint_mapping(source, target)
    out: np.ndarray = np.take(keypoints, np.clip(mapping, 0, None), axis=-2).astype(np.result_type(keypoints, np.float32))
    out[..., mapping < 0, :] = fill
    return out


def convert_joint_states(states: np.ndarray, source: str, target: str) -> np.ndarray:
    """Reorder ``(..., K_source)`` ``JointState`` values into ``target``'s order (uint8); joints that
    ``source`` does not have are ``JointState.UNKNOWN``."""
    converted = convert_keypoints(np.asarray(states)[..., None].astype(np.float32), source, target, fill=JointState.UNKNOWN)
    return converted[..., 0].astype(np.uint8)

