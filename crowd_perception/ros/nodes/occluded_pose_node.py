"""``occluded_pose_node``: image + ``detections`` matched by exact stamp (bounded cache) -> ``poses_2d``
(``crowd_perception/Pose2DArray``, per-joint occlusion state, header of the image)."""

from __future__ import annotations

import time
from typing import Any

from ...core.types import Poses2D
from ...pipeline.stages import Pose2DNodeConfig, Pose2DStage
from .. import convert
from ..sync import StampSync
from .base import StageNode, exit_node_process, run_node

__all__ = ["OccludedPoseNode", "main"]


class OccludedPoseNode(StageNode):
    CONFIG = Pose2DNodeConfig
    config: Pose2DNodeConfig
    STAGE = Pose2DStage
    STAGE_NAME = "occluded pose"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("occluded_pose_node", **kwargs)
        self.sync = StampSync(("image", "detections"), ("image", "detections"), self.config.sync_capacity)
        self.subscribe("sensor_msgs/msg/Image", "image", lambda msg: self.on_synced("image", msg))
        self.subscribe("crowd_perception/msg/DetectionArray", "detections",
                       lambda msg: self.on_synced("detections", msg))
        self.publisher = self.advertise("crowd_perception/msg/Pose2DArray", "poses_2d")

    def process(self, group: dict[str, Any]) -> None:
        started = time.perf_counter_ns()
        image = self.decode_image(group["image"])
        header, detections = convert.detections_from_msg(group["detections"])
        if image is None:  # rejected: the empty result, with the header, so the tracker is not kept waiting
            poses = Poses2D.empty(getattr(self.runner, "skeleton", None) or "coco17")
        else:
            poses = self.stage.process(image, detections)
        self.publish(self.publisher, convert.poses2d_to_msg(poses, header, self.kit), header, started)


def main(args: list[str] | None = None) -> int:
    return run_node(OccludedPoseNode, args)


if __name__ == "__main__":  # `python -m` and the launcher CMakeLists.txt installs (runpy)
    exit_node_process(main())
