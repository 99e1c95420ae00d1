"""Batched constant-velocity Kalman filter on ``(cx, cy, aspect, h)``, as in JDE / DeepSORT.

The state of a track is ``(cx, cy, a, h, vcx, vcy, va, vh)``. Velocities are in units per
*nominal frame* (``1 / frame_rate`` seconds), so that one step of ``dt = 1`` reproduces JDE's
per-frame filter exactly, while a time-based tracker passes ``dt`` in nominal frames
(``seconds * frame_rate``) and gets process noise scaled linearly with ``dt``.

Noise follows JDE (which copies DeepSORT): standard deviations are ``1/20`` (position) and
``1/160`` (velocity) of the box height, fixed small values for the aspect ratio. Every function
works on a whole batch, ``mean (N, 8)`` and ``covariance (N, 8, 8)``, with numpy only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "CHI2INV95",
    "KalmanFilter",
    "Projection",
    "dense_gating_distance",
    "gate_candidates",
    "pair_gating_distance",
]

# 0.95 quantile of the chi-square distribution with N degrees of freedom (DeepSORT's table).
CHI2INV95 = {1: 3.8415, 2: 5.9915, 3: 7.8147, 4: 9.4877, 5: 11.070, 6: 12.592, 7: 14.067, 8: 15.507, 9: 16.919}

_NDIM = 4


class Projection(NamedTuple):
    """Tracks in measurement space: mean ``(N, 4)``, innovation covariance ``S`` and ``S^-1`` ``(N, 4, 4)``.

    One projection of a frame's predicted tracks serves both the gating and the update, so ``S`` is
    inverted once per frame.
    """

    mean: np.ndarray
    cov: np.ndarray
    inverse: np.ndarray

    def take(self, rows: np.ndarray) -> Projection:
        return Projection(self.mean.take(rows, axis=0), self.cov.take(rows, axis=0), self.inverse.take(rows, axis=0))


class KalmanFilter:
    """Constant-velocity model with JDE's height-proportional noise; all methods are batched."""

    def __init__(self, std_weight_position: float = 1.0 / 20, std_weight_velocity: float = 1.0 / 160) -> None:
        self.std_weight_position = std_weight_position
        self.std_weight_velocity = std_weight_velocity
        wp, wv = std_weight_position, std_weight_velocity
        # standard deviations as ``height * scale + offset``, so that each step is two array operations
        self._process_scale = np.array([wp, wp, 0.0, wp, wv, wv, 0.0, wv])
        self._process_offset = np.array([0.0, 0.0, 1e-2, 0.0, 0.0, 0.0, 1e-5, 0.0])
        self._initial_scale = self._process_scale * np.array([2, 2, 0, 2, 10, 10, 0, 10])  # new tracks: wider
        self._measurement_scale = np.array([wp, wp, 0.0, wp])
        self._measurement_offset = np.array([0.0, 0.0, 1e-1, 0.0])
        self._motion: dict[float, tuple[np.ndarray, np.ndarray]] = {}  # dt -> (F, F^T), reused every frame

    @staticmethod
    def motion_matrix(dt: float) -> np.ndarray:
        """``F`` of the constant-velocity model for a step of ``dt`` nominal frames."""
        f = np.eye(2 * _NDIM)
        f[np.arange(_NDIM), _NDIM + np.arange(_NDIM)] = dt
        return f

    def initiate(self, measurements: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New tracks from ``(N, 4)`` ``(cx, cy, a, h)`` measurements: zero velocity, wide covariance."""
        z = np.asarray(measurements, dtype=np.float64).reshape(-1, _NDIM)
        mean = np.concatenate([z, np.zeros_like(z)], axis=1)
        std = z[:, 3:4] * self._initial_scale + self._process_offset
        return mean, _diag(std**2)

    def predict(self, mean: np.ndarray, covariance: np.ndarray, dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """One prediction step of ``dt`` nominal frames; process noise scales linearly with ``dt``.

        The noise uses the height *before* the step, as JDE does.
        """
        std = mean[:, 3:4] * self._process_scale + self._process_offset
        f, f_t = self._motion_pair(dt)
        new_cov = f @ covariance @ f_t
        _add_diagonal(new_cov, std * std * dt)
        return mean @ f_t, new_cov

    def _motion_pair(self, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """``(F, F^T)`` for ``dt``, cached (a stream has one or a few distinct steps)."""
        pair = self._motion.get(dt)
        if pair is None:
            if len(self._motion) > 64:  # irregular stamps: do not grow without bound
                self._motion.clear()
            f = self.motion_matrix(dt)
            pair = self._motion[dt] = (f, np.ascontiguousarray(f.T))
        return pair

    def project(self, mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Measurement-space mean ``(N, 4)`` and innovation covariance ``(N, 4, 4)``."""
        std = mean[:, 3:4] * self._measurement_scale + self._measurement_offset
        cov = covariance[:, :_NDIM, :_NDIM].copy()
        _add_diagonal(cov, std * std)
        return mean[:, :_NDIM].copy(), cov

    def projection(self, mean: np.ndarray, covariance: np.ndarray) -> Projection:
        """:meth:`project` with the inverse of the innovation covariance."""
        projected_mean, projected_cov = self.project(mean, covariance)
        return Projection(projected_mean, projected_cov, np.linalg.inv(projected_cov))

    def update(
        self,
        mean: np.ndarray,
        covariance: np.ndarray,
        measurements: np.ndarray,
        projection: Projection | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Correct each row's state with its own ``(cx, cy, a, h)`` measurement (row-aligned).

        ``projection``: the rows' :meth:`projection`, when the caller already has it.
        """
        z = np.asarray(measurements, dtype=np.float64).reshape(-1, _NDIM)
        projected_mean, _, inverse = projection or self.projection(mean, covariance)
        cross = covariance[:, :, :_NDIM]  # P H^T, (N, 8, 4)
        gain = cross @ inverse  # K = P H^T S^-1 (S symmetric)
        innovation = z - projected_mean
        new_mean = mean + (gain @ innovation[:, :, None])[:, :, 0]
        new_cov = covariance - gain @ cross.transpose(0, 2, 1)  # P - K S K^T, with K S = P H^T
        return new_mean, new_cov

    def gating_distance(
        self, mean: np.ndarray, covariance: np.ndarray, measurements: np.ndarray, only_position: bool = False
    ) -> np.ndarray:
        """Squared Mahalanobis distances ``(N tracks, M measurements)`` in measurement space.

        With ``only_position`` only ``(cx, cy)`` count (compare with ``CHI2INV95[2]``), otherwise
        all four coordinates (``CHI2INV95[4]``), as in DeepSORT / JDE.
        """
        k = 2 if only_position else _NDIM
        projected_mean, projected_cov = self.project(mean, covariance)
        return dense_gating_distance(projected_mean[:, :k], np.linalg.inv(projected_cov[:, :k, :k]), measurements)


def dense_gating_distance(projected_mean: np.ndarray, inverse: np.ndarray, measurements: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis distance of every track to every measurement, ``(N, M)``.

    ``projected_mean`` ``(N, k)`` and ``inverse`` ``(N, k, k)`` (the inverted innovation covariance)
    over the first ``k`` measurement coordinates. For a few tracks this costs less than
    :func:`gate_candidates`.
    """
    k = projected_mean.shape[1]
    z = np.asarray(measurements, dtype=np.float64).reshape(-1, _NDIM)
    diff = z[None, :, :k] - projected_mean[:, None, :]  # (N, M, k)
    distance: np.ndarray = ((diff @ inverse) * diff).sum(axis=2)
    return distance


def pair_gating_distance(
    projected_mean: np.ndarray,
    projected_cov: np.ndarray,
    measurements: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    only_position: bool = False,
) -> np.ndarray:
    """Squared Mahalanobis distance of track ``rows[k]`` to measurement ``cols[k]``, ``(K,)``.

    Takes the output of :meth:`KalmanFilter.project`, so that one projection serves both this
    and :func:`gate_candidates`.
    """
    k = 2 if only_position else _NDIM
    if len(rows) == 0:
        return np.zeros(0)
    inv = np.linalg.inv(projected_cov[:, :k, :k])
    diff = np.asarray(measurements, dtype=np.float64)[cols, :k] - projected_mean[rows, :k]
    distance: np.ndarray = np.einsum("ki,kij,kj->k", diff, inv[rows], diff)
    return distance


def gate_candidates(
    projected_mean: np.ndarray, projected_cov: np.ndarray, measurements: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(rows, cols)`` that *may* pass the gate ``gating_distance <= threshold``.

    A marginal Mahalanobis distance never exceeds the joint one, so a pair whose centre is more
    than ``sqrt(threshold * S_xx)`` away in x (or in y) is certainly gated out. The x test is a
    range query on the measurements sorted by x (no all-pairs matrix), the y test filters what it
    returns; a valid pair is never dropped.
    """
    z = np.asarray(measurements, dtype=np.float64).reshape(-1, _NDIM)
    if len(projected_mean) == 0 or len(z) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    reach = np.sqrt(threshold * projected_cov[:, [0, 1], [0, 1]])  # (N, 2)
    order = np.argsort(z[:, 0], kind="stable")
    sorted_x = z[order, 0]
    lo = np.searchsorted(sorted_x, projected_mean[:, 0] - reach[:, 0], side="left")
    hi = np.searchsorted(sorted_x, projected_mean[:, 0] + reach[:, 0], side="right")
    counts = hi - lo
    rows = np.repeat(np.arange(len(projected_mean)), counts)
    # position of each pair inside its row's range: 0, 1, ... counts[row] - 1
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    cols = order[np.repeat(lo, counts) + offsets]
    near_y = np.abs(z[cols, 1] - projected_mean[rows, 1]) <= reach[rows, 1]
    return rows[near_y], cols[near_y]


def _add_diagonal(matrices: np.ndarray, values: np.ndarray) -> None:
    """``matrices[n] += diag(values[n])`` in place, for a C-contiguous ``(N, D, D)`` batch."""
    n, d = values.shape
    matrices.reshape(n, d * d)[:, :: d + 1] += values


def _diag(values: np.ndarray) -> np.ndarray:
    """Batch of diagonal matrices ``(N, D, D)`` from ``(N, D)`` diagonals."""
    n, d = values.shape
    out = np.zeros((n, d, d))
    out[:, np.arange(d), np.arange(d)] = values
    return out
