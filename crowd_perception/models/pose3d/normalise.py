"""Root-relative, scale-normalised 3D poses: the regression target of the 3D head.

A pose is expressed relative to the skeleton's root (the pelvis for ``body22``) and divided by
the sum of its bone lengths (the skeleton's limbs, a tree over all joints), so the network learns
the shape of the body, not its size; the size comes back at placement time from a body-size prior.
"""

from __future__ import annotations

import numpy as np

from ...core.skeletons import get_skeleton

__all__ = ["bone_length_sum", "normalise_pose", "denormalise_pose"]


def _bones(skeleton: str) -> np.ndarray:
    limbs = np.asarray(get_skeleton(skeleton).limbs, dtype=np.int64)
    if len(limbs) == 0:
        raise ValueError(f"skeleton {skeleton} has no limbs to measure")
    return limbs


def bone_length_sum(joints: np.ndarray, skeleton: str = "body22") -> np.ndarray:
    """Sum of the skeleton's bone lengths of ``(..., K, 3)`` joints -> ``(...)`` (NaN if a joint is unknown)."""
    joints = np.asarray(joints, dtype=np.float64)
    limbs = _bones(skeleton)
    return np.linalg.norm(joints[..., limbs[:, 0], :] - joints[..., limbs[:, 1], :], axis=-1).sum(axis=-1)


def normalise_pose(joints: np.ndarray, skeleton: str = "body22") -> tuple[np.ndarray, np.ndarray]:
    """``(..., K, 3)`` metres -> (root-relative pose with bone-length sum 1, the sum in metres).

    Poses with an unknown joint or a degenerate (zero) size come back as NaN with scale NaN.
    """
    joints = np.asarray(joints, dtype=np.float64)
    root = get_skeleton(skeleton).root
    if root is None:
        raise ValueError(f"skeleton {skeleton} has no root joint")
    scale = bone_length_sum(joints, skeleton)
    scale = np.where(np.isfinite(scale) & (scale > 1e-9), scale, np.nan)
    relative = joints - joints[..., root : root + 1, :]
    return relative / scale[..., None, None], scale


def denormalise_pose(normalised: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
    """Undo :func:`normalise_pose` up to the root position: root-relative pose in metres."""
    return np.asarray(normalised, dtype=np.float64) * np.asarray(scale, dtype=np.float64)[..., None, None]
