"""Camera-frame placement of root-relative 3D poses from their 2D poses and the camera intrinsics.

A monocular image fixes a person's 3D position only up to the person's size: a small person near
the camera and a large one far away project identically. The network therefore predicts the shape
of the pose (bone-length sum 1, see ``normalise``) and placement assumes a **body-size prior**: the
bone-length sum ``s`` of an average person, measured on the training set (``BodySizePrior``). With
``s`` fixed, the root translation ``T`` solves a linear least-squares problem in the reprojection
(the algebraic form, exact for noiseless input): for every joint with normalised image coordinates
``(x_j, y_j)`` and scaled pose ``s q_j``,

    T_x - x_j T_z = x_j s q_jz - s q_jx,      T_y - y_j T_z = y_j s q_jz - s q_jy.

Error of the prior: a person whose true size differs from ``s`` by a fraction ``e`` is placed at a
depth off by the same fraction (``|ΔT| ≈ e · |T|``); ``BodySizePrior.relative_std`` is that spread
on the training population, e.g. 5 % std -> ±1 m at 20 m.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.camera import PinholeCamera
from .normalise import bone_length_sum

__all__ = ["BodySizePrior", "place_poses", "default_camera"]

DEFAULT_HORIZONTAL_FOV_DEG = 60.0


@dataclass(frozen=True)
class BodySizePrior:
    """Mean and standard deviation (metres) of the bone-length sum over a population."""

    mean_m: float
    std_m: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.mean_m) and self.mean_m > 0 and np.isfinite(self.std_m) and self.std_m >= 0):
            raise ValueError(f"invalid body-size prior mean={self.mean_m} std={self.std_m}")

    @property
    def relative_std(self) -> float:
        """Relative depth error the prior causes for a person one standard deviation off the mean."""
        return self.std_m / self.mean_m

    @classmethod
    def from_poses(cls, joints_3d: np.ndarray, skeleton: str = "body22") -> BodySizePrior:
        """Measure the prior on ``(N, K, 3)`` ground-truth poses (rows with unknown joints are skipped)."""
        sizes = bone_length_sum(joints_3d, skeleton)
        sizes = sizes[np.isfinite(sizes)]
        if len(sizes) == 0:
            raise ValueError("no complete 3D pose to measure a body-size prior on")
        return cls(float(sizes.mean()), float(sizes.std()))


def default_camera(width: int, height: int) -> PinholeCamera:
    """The camera assumed when no intrinsics are known (60° horizontal field of view, centred)."""
    return PinholeCamera.from_fov(width, height, DEFAULT_HORIZONTAL_FOV_DEG)


def place_poses(
    keypoints: np.ndarray,
    normalised_pose: np.ndarray,
    camera: PinholeCamera,
    scale_m: float,
    weights: np.ndarray | None = None,
    min_joints: int = 2,
) -> np.ndarray:
    """Camera-frame joints ``(N, K, 3)`` of ``N`` people.

    keypoints: ``(N, K, 2)`` pixels (NaN joints are ignored); normalised_pose: ``(N, K, 3)`` root-relative,
    bone-length sum 1; scale_m: the assumed bone-length sum; weights: optional ``(N, K)`` joint weights.
    People with fewer than ``min_joints`` usable joints, or placed behind the camera, come back NaN.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    pose = np.asarray(normalised_pose, dtype=np.float64) * scale_m
    n, k = pose.shape[:2]
    if keypoints.shape != (n, k, 2):
        raise ValueError(f"keypoints {keypoints.shape} do not match poses {pose.shape}")
    x = (keypoints[..., 0] - camera.cx) / camera.fx
    y = (keypoints[..., 1] - camera.cy) / camera.fy
    w = np.ones((n, k)) if weights is None else np.asarray(weights, dtype=np.float64).reshape(n, k)
    usable = np.isfinite(x) & np.isfinite(y) & np.all(np.isfinite(pose), axis=-1) & (w > 0)
    w = np.where(usable, w, 0.0)
    x, y = np.where(usable, x, 0.0), np.where(usable, y, 0.0)
    pose_safe = np.where(usable[..., None], pose, 0.0)
    zeros, ones = np.zeros((n, k)), np.ones((n, k))
    # Rows of A (N, 2K, 3) and b (N, 2K) of the two equations per joint.
    a = np.concatenate([np.stack([ones, zeros, -x], -1), np.stack([zeros, ones, -y], -1)], axis=1)
    b = np.concatenate([x * pose_safe[..., 2] - pose_safe[..., 0], y * pose_safe[..., 2] - pose_safe[..., 1]], axis=1)
    ww = np.concatenate([w, w], axis=1)
    ata = np.einsum("nri,nr,nrj->nij", a, ww, a)
    atb = np.einsum("nri,nr,nr->ni", a, ww, b)
    ok = usable.sum(axis=1) >= min_joints
    ata[~ok] = np.eye(3)
    translation = np.linalg.solve(ata, atb[..., None])[..., 0]
    ok &= translation[:, 2] > 0
    joints = pose + translation[:, None, :]
    joints[~ok] = np.nan
    return joints
