"""``pose3d_node``: image + ``camera_info`` -> ``poses_3d`` (``crowd_perception/Pose3DArray``, camera
frame, metres). Without valid intrinsics it publishes root-relative poses flagged
``placed_with_intrinsics = false`` and warns (throttled), or skips the image when
``require_camera_info`` is set."""

from __future__ import annotations

import time
from typing import Any

from ...core.camera import PinholeCamera
from ...core.types import Poses3D
from ...pipeline.stages import Pose3DNodeConfig, Pose3DStage, camera_for_image
from .. import convert
from .base import THROTTLE_S, StageNode, exit_node_process, run_node

__all__ = ["Pose3DNode", "main"]


class Pose3DNode(StageNode):
    CONFIG = Pose3DNodeConfig
    config: Pose3DNodeConfig
    STAGE = Pose3DStage
    STAGE_NAME = "3D pose"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("pose3d_node", **kwargs)
        self.camera: PinholeCamera | None = None
        self.camera_error: str | None = "no CameraInfo received"
        self.subscribe("sensor_msgs/msg/Image", "image", self.on_input)
        self.subscribe("sensor_msgs/msg/CameraInfo", "camera_info", self._on_camera_info)
        self.publisher = self.advertise("crowd_perception/msg/Pose3DArray", "poses_3d")

    def _on_camera_info(self, msg: Any) -> None:
        try:
            self.camera, self.camera_error = convert.camera_from_msg(msg), None
        except ValueError as exc:
            self.camera, self.camera_error = None, f"invalid CameraInfo: {exc}"

    def process(self, msg: Any) -> None:
        started = time.perf_counter_ns()
        image = self.decode_image(msg)
        if image is None:  # rejected: the empty result, with the header (one output per input)
            header = convert.header_from_msg(msg.header)
            skeleton = getattr(getattr(self.runner, "config", None), "skeleton", None) or "body22"
            self.publish(self.publisher, convert.poses3d_to_msg(Poses3D.empty(skeleton), header, self.kit), header,
                         started)
            return
        header = convert.header_from_msg(msg.header)
        camera, reason = camera_for_image(self.camera, image.shape[1], image.shape[0])
        if camera is None:
            reason = self.camera_error or reason
            self.stats.missing_camera_info += 1
            if self.config.require_camera_info:
                self.get_logger().warning(f"skipping image: {reason}", throttle_duration_sec=THROTTLE_S)
                return
            self.get_logger().warning(
                f"publishing root-relative 3D poses only (placed_with_intrinsics=false): {reason}",
                throttle_duration_sec=THROTTLE_S,
            )
        poses = self.stage.process(image, camera)
        self.publish(self.publisher, convert.poses3d_to_msg(poses, header, self.kit), header, started)


def main(args: list[str] | None = None) -> int:
    return run_node(Pose3DNode, args)


if __name__ == "__main__":  # `python -m` and the launcher CMakeLists.txt installs (runpy)
    exit_node_process(main())
