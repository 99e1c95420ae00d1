"""The vehicle camera: pose on the street over time (ego-motion) and the world-to-camera transform.

World frame: ``X`` across the street (to the right when looking down the street), ``Y`` up,
``Z`` along the street, metres, ground at ``Y = 0``. The camera sits at mounting height ``h``,
looks along its heading (yaw ``psi`` about ``Y``, positive towards ``+X``) and is pitched down by
``theta``. The camera frame is the ROS optical frame (x right, y down, z forward).

The world labelling (right, up, ahead) is left-handed, as in many graphics engines, so the
world-to-camera matrix is orthogonal with determinant -1; every axis keeps its physical meaning and
all outputs (``joints_3d``) are in the right-handed optical frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.camera import PinholeCamera

__all__ = ["CameraPose", "EgoMotion", "rotation_world_to_camera"]


def rotation_world_to_camera(yaw: float, pitch: float) -> np.ndarray:
    """3x3 orthogonal matrix taking world directions to the optical frame (yawed, down-pitched camera)."""
    forward = np.array([np.sin(yaw), 0.0, np.cos(yaw)])
    right = np.array([np.cos(yaw), 0.0, -np.sin(yaw)])
    up = np.array([0.0, 1.0, 0.0])
    cp, sp = np.cos(pitch), np.sin(pitch)
    return np.stack([right, -cp * up - sp * forward, cp * forward - sp * up])


@dataclass(frozen=True)
class CameraPose:
    """Camera centre in the world, world-to-camera rotation and intrinsics of one frame."""

    centre: np.ndarray
    rotation: np.ndarray
    intrinsics: PinholeCamera

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """``(..., 3)`` world points -> camera optical frame."""
        return (np.asarray(points) - self.centre) @ self.rotation.T

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """``(..., 3)`` camera-frame points -> pixels (no validity check; callers keep z > 0)."""
        k = self.intrinsics
        z = points_cam[..., 2]
        return np.stack([k.fx * points_cam[..., 0] / z + k.cx, k.fy * points_cam[..., 1] / z + k.cy], axis=-1)


@dataclass(frozen=True)
class EgoMotion:
    """Vehicle trajectory: constant speed along the street with a smooth, bounded heading change.

    The heading follows ``yaw(t) = A sin(t * rate / A)`` (``A`` = 6 deg), i.e. it starts turning at
    ``yaw_rate`` and bends back before leaving the street; the lateral position integrates it.
    ``shake`` (rad) adds the pitch oscillation of a suspension (1.7 Hz, with a slower 0.6 Hz part).
    """

    lane_x: float
    mount_height: float
    pitch: float
    speed: float
    yaw_rate: float
    intrinsics: PinholeCamera
    shake: float = 0.0

    _AMPLITUDE = np.radians(6.0)

    def pose(self, t: float) -> CameraPose:
        a = self._AMPLITUDE
        w = self.yaw_rate / a if self.yaw_rate else 0.0
        yaw = a * np.sin(w * t) if w else 0.0
        # Integrate the position: small-angle closed forms of sin/cos of the heading over time.
        if w:
            z = self.speed * t * (1.0 - a**2 / 4.0) + self.speed * a**2 * np.sin(2 * w * t) / (8 * w)
            x = self.lane_x + self.speed * a * (1.0 - np.cos(w * t)) / w
        else:
            z, x = self.speed * t, self.lane_x
        centre = np.array([x, self.mount_height, z])
        pitch = self.pitch + self.shake * (np.sin(2 * np.pi * 1.7 * t) + 0.5 * np.sin(2 * np.pi * 0.6 * t + 1.0))
        return CameraPose(centre, rotation_world_to_camera(yaw, pitch), self.intrinsics)
