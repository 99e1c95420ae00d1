"""``tracker_node``: ``detections`` (+ optionally ``poses_2d`` / ``poses_3d`` of the same stamp, attached
to tracks by box overlap, and a ``homography`` for motion compensation) -> ``tracks``
(``crowd_perception/TrackArray``, one per detection message, header of the image)."""

from __future__ import annotations

import time
from typing import Any

from ...pipeline.stages import TrackerNodeConfig, TrackerStage
from .. import convert
from ..sync import StampSync
from .base import StageNode, exit_node_process, run_node

__all__ = ["TrackerNode", "main"]

_STREAMS = {
    "poses_2d": ("crowd_perception/msg/Pose2DArray", "attach_poses_2d"),
    "poses_3d": ("crowd_perception/msg/Pose3DArray", "attach_poses_3d"),
    "homography": ("crowd_perception/msg/Homography", "motion_compensation"),
}


class TrackerNode(StageNode):
    CONFIG = TrackerNodeConfig
    config: TrackerNodeConfig
    STAGE = TrackerStage
    STAGE_NAME = "tracking"
    PRIMARY = "detections"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("tracker_node", **kwargs)
        streams = ["detections"] + [name for name, (_, flag) in _STREAMS.items() if getattr(self.config, flag)]
        self.sync = StampSync(tuple(streams), ("detections",), self.config.sync_capacity)
        self.subscribe("crowd_perception/msg/DetectionArray", "detections", lambda m: self.on_synced("detections", m))
        for name in streams[1:]:
            self.subscribe(_STREAMS[name][0], name, lambda m, name=name: self.on_synced(name, m))
        self.publisher = self.advertise("crowd_perception/msg/TrackArray", "tracks")

    def process(self, group: dict[str, Any]) -> None:
        started = time.perf_counter_ns()
        header, detections = convert.detections_from_msg(group["detections"])
        poses_2d = convert.poses2d_from_msg(group["poses_2d"])[1] if "poses_2d" in group else None
        poses_3d = convert.poses3d_from_msg(group["poses_3d"])[1] if "poses_3d" in group else None
        homography = convert.homography_from_msg(group["homography"])[1] if "homography" in group else None
        tracks = self.stage.process(detections, header.stamp_ns, poses_2d, poses_3d, homography)
        self.publish(self.publisher, convert.tracks_to_msg(tracks, header, self.kit), header, started)


def main(args: list[str] | None = None) -> int:
    return run_node(TrackerNode, args)


if __name__ == "__main__":  # `python -m` and the launcher CMakeLists.txt installs (runpy)
    exit_node_process(main())
