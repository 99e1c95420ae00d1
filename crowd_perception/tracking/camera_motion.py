"""Camera-motion compensation: move Kalman states by an image-plane homography.

The homography ``H`` maps pixels of the previous image to the current one (from odometry, IMU or
image registration, computed outside the tracker). Each track's centre goes through ``H``
exactly; its velocity, covariance and height go through the local linearisation of ``H`` at the
centre (the Jacobian ``J``), the height scaled by ``sqrt(|det J|)`` and the aspect unchanged. For
an affine ``H`` this is BoT-SORT's global-motion compensation.
"""

from __future__ import annotations

import numpy as np

__all__ = ["validate_homography", "warp_states"]


def validate_homography(homography: np.ndarray) -> np.ndarray:
    """``homography`` as a finite, invertible ``(3, 3)`` float array normalised to ``H[2, 2] = 1``."""
    h = np.asarray(homography, dtype=np.float64)
    if h.shape != (3, 3) or not np.all(np.isfinite(h)):
        raise ValueError(f"homography must be a finite 3x3 matrix, got shape {h.shape}")
    if abs(np.linalg.det(h)) < 1e-12 or abs(h[2, 2]) < 1e-12:
        raise ValueError("homography is singular")
    normalised: np.ndarray = h / h[2, 2]
    return normalised


def warp_states(mean: np.ndarray, covariance: np.ndarray, homography: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Warp ``(N, 8)`` states and ``(N, 8, 8)`` covariances by ``homography`` (batched)."""
    h = validate_homography(homography)
    if len(mean) == 0:
        return mean.copy(), covariance.copy()
    xy1 = np.concatenate([mean[:, :2], np.ones((len(mean), 1))], axis=1) @ h.T  # (N, 3)
    w = xy1[:, 2:3]
    centre = xy1[:, :2] / w
    # d(Hx)/dx for the projective map: (A - centre * h_row3[:2]) / w
    jac = (h[None, :2, :2] - centre[:, :, None] * h[None, 2:3, :2]) / w[:, :, None]  # (N, 2, 2)
    scale = np.sqrt(np.abs(np.linalg.det(jac)))
    t = np.zeros((len(mean), 8, 8))
    t[:, 0:2, 0:2] = jac
    t[:, 4:6, 4:6] = jac
    t[:, 2, 2] = 1.0
    t[:, 6, 6] = 1.0
    t[:, 3, 3] = scale
    t[:, 7, 7] = scale
    new_mean = np.einsum("nij,nj->ni", t, mean)
    new_mean[:, :2] = centre
    new_cov = t @ covariance @ t.transpose(0, 2, 1)
    return new_mean, new_cov
