"""``occluded_pose_node``: image + ``detections`` matched by exact stamp (bounded cache) -> ``poses_2d``
(``crowd_perception/Pose2DArray``, per-joint occlusion state, header of the image)."""

from __future__ import annotations

import time
from typing import Any

from .. import convert
from ..stages import PoseConfig, PoseStage, build_runner
from ..sync import StampSync
from .base import StageNode, run_node

__all__ = ["OccludedPoseNode", "main"]


class OccludedPoseNode(StageNode):
    CONFIG = PoseConfig
    STAGE_NAME = "occluded pose"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("occluded_pose_node", **kwargs)
        self.sync = StampSync(("image", "detections"), ("image", "detections"), self.config.sync_capacity)
        self.subscribe("sensor_msgs/msg/Image", "image", lambda msg: self._on("image", msg))
        self.subscribe("crowd_perception/msg/DetectionArray", "detections", lambda msg: self._on("detections", msg))
        self.publisher = self.advertise("crowd_perception/msg/Pose2DArray", "poses_2d")

    def make_stage(self, runner: Any) -> PoseStage:
        return PoseStage(self.config, runner if runner is not None else build_runner(self.config))

    @property
    def runner(self) -> Any:
        return self.stage.estimator

    def _on(self, stream: str, msg: Any) -> None:
        if stream == "image":
            self.stats.on_receive(self.now_ns())
        stamp = convert.header_from_msg(msg.header).stamp_ns
        for _, group in self.sync.add(stream, stamp, msg):
            self.submit(group)

    def process(self, group: dict[str, Any]) -> None:
        started = time.perf_counter_ns()
        image = self.decode_image(group["image"])
        if image is None:
            return
        header, detections = convert.detections_from_msg(group["detections"])
        poses = self.stage.process(image, detections)
        self.publish(self.publisher, convert.poses2d_to_msg(poses, header, self.kit), header, started)

    def dropped(self) -> int:
        return super().dropped() + self.sync.dropped + self.sync.late


def main(args: list[str] | None = None) -> int:
    return run_node(OccludedPoseNode, args)
