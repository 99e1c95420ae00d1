"""Pinhole camera model in the ROS optical frame (x right, y down, z forward, metres).

Distortion is not modelled: the nodes expect rectified images (``image_rect``), as ROS
perception stacks conventionally do. ``from_camera_info`` reads the fields of
``sensor_msgs/CameraInfo`` and rejects non-finite or degenerate intrinsics with a clear error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import CrowdPerceptionError

__all__ = ["PinholeCamera", "InvalidIntrinsicsError"]


class InvalidIntrinsicsError(CrowdPerceptionError, ValueError):
    """Camera intrinsics that are NaN, infinite, non-positive or inconsistent."""


@dataclass(frozen=True)
class PinholeCamera:
    """Intrinsics ``fx, fy, cx, cy`` in pixels and the image size they belong to."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def __post_init__(self) -> None:
        values = np.array([self.fx, self.fy, self.cx, self.cy], dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise InvalidIntrinsicsError(f"non-finite intrinsics fx={self.fx} fy={self.fy} cx={self.cx} cy={self.cy}")
        if self.fx <= 0 or self.fy <= 0:
            raise InvalidIntrinsicsError(f"focal lengths must be positive, got fx={self.fx} fy={self.fy}")
        if self.width <= 0 or self.height <= 0:
            raise InvalidIntrinsicsError(f"image size must be positive, got {self.width}x{self.height}")

    @classmethod
    def from_fov(cls, width: int, height: int, horizontal_fov_deg: float) -> PinholeCamera:
        """Square pixels, principal point at the image centre."""
        fx = width / (2.0 * np.tan(np.radians(horizontal_fov_deg) / 2.0))
        return cls(fx, fx, width / 2.0, height / 2.0, width, height)

    @classmethod
    def from_matrix(cls, k: np.ndarray | Sequence[float], width: int, height: int) -> PinholeCamera:
        """From a 3x3 (or row-major 9-vector) intrinsic matrix."""
        k = np.asarray(k, dtype=np.float64).reshape(3, 3)
        if not np.all(np.isfinite(k)):
            raise InvalidIntrinsicsError(f"non-finite camera matrix {k.ravel().tolist()}")
        return cls(float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2]), int(width), int(height))

    @classmethod
    def from_camera_info(
        cls, k: Sequence[float], width: int, height: int, p: Sequence[float] | None = None
    ) -> PinholeCamera:
        """From ``sensor_msgs/CameraInfo`` fields.

        For rectified images the projection matrix ``P`` is authoritative; ``K`` is used when
        ``P`` is absent or all zero (as many drivers leave it). An all-zero ``K`` means
        "uncalibrated" in ROS and is an error here.
        """
        camera = None
        if p is not None:
            p_arr = np.asarray(p, dtype=np.float64).reshape(3, 4)
            if np.any(p_arr != 0):
                camera = cls.from_matrix(p_arr[:, :3], width, height)
        if camera is None:
            k_arr = np.asarray(k, dtype=np.float64)
            if k_arr.size == 9 and np.all(k_arr == 0):
                raise InvalidIntrinsicsError("CameraInfo K is all zero (uncalibrated camera)")
            camera = cls.from_matrix(k_arr, width, height)
        # a field of view under ~0.06 degrees: a unit mistake (fx in micrometres), not a lens;
        # it would place people tens of kilometres away and call them "placed with intrinsics"
        if max(camera.fx, camera.fy) > 1000.0 * max(camera.width, camera.height):
            raise InvalidIntrinsicsError(f"implausible focal length fx={camera.fx} fy={camera.fy} for a "
                                         f"{camera.width}x{camera.height} image")
        return camera

    @property
    def matrix(self) -> np.ndarray:
        """The 3x3 intrinsic matrix K."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def scaled(self, sx: float, sy: float | None = None) -> PinholeCamera:
        """The same camera for an image resized by ``sx`` (and ``sy``)."""
        sy = sx if sy is None else sy
        return PinholeCamera(
            self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy, round(self.width * sx), round(self.height * sy)
        )

    def project(self, points: np.ndarray) -> np.ndarray:
        """``(..., 3)`` camera-frame points -> ``(..., 2)`` pixels; points with z <= 0 give NaN."""
        points = np.asarray(points, dtype=np.float64)
        z = points[..., 2]
        valid = z > 0
        safe_z = np.where(valid, z, 1.0)
        uv = np.stack([self.fx * points[..., 0] / safe_z + self.cx, self.fy * points[..., 1] / safe_z + self.cy], -1)
        return np.where(valid[..., None], uv, np.nan)

    def back_project(self, pixels: np.ndarray, depth: np.ndarray | float) -> np.ndarray:
        """``(..., 2)`` pixels at depth ``z`` (metres along the optical axis) -> ``(..., 3)`` points."""
        pixels = np.asarray(pixels, dtype=np.float64)
        z = np.broadcast_to(np.asarray(depth, dtype=np.float64), pixels.shape[:-1])
        x = (pixels[..., 0] - self.cx) / self.fx * z
        y = (pixels[..., 1] - self.cy) / self.fy * z
        return np.stack([x, y, z], axis=-1)

    def rays(self, pixels: np.ndarray) -> np.ndarray:
        """Unit viewing rays through ``(..., 2)`` pixels."""
        d = self.back_project(pixels, 1.0)
        rays: np.ndarray = d / np.linalg.norm(d, axis=-1, keepdims=True)
        return rays

    def in_image(self, pixels: np.ndarray) -> np.ndarray:
        """Whether ``(..., 2)`` pixels fall inside ``[0, width) x [0, height)``."""
        pixels = np.asarray(pixels)
        x, y = pixels[..., 0], pixels[..., 1]
        return (x >= 0) & (x < self.width) & (y >= 0) & (y < self.height)
