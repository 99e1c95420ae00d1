"""``visualizer_node`` (optional, debugging): image + ``tracks`` matched by stamp -> ``debug_image``
(boxes, ids, skeletons with occluded joints hollow) and ``markers`` (RViz 3D skeletons of the
tracks' attached 3D poses). Drawing and publishing happen only while someone subscribes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ...pipeline.stages import Stage, VisualizerNodeConfig
from .. import convert
from ..draw import draw_tracks, skeleton_markers
from ..sync import StampSync
from .base import StageNode, exit_node_process, run_node

__all__ = ["VisualizerNode", "main"]


class _Drawer:
    """The visualizer's "runner" (identity for the diagnostics)."""

    name = "opencv"


@dataclass
class _DrawStage(Stage):
    config: VisualizerNodeConfig
    runner: Any


class VisualizerNode(StageNode):
    CONFIG = VisualizerNodeConfig
    config: VisualizerNodeConfig
    STAGE_NAME = "visualization"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("visualizer_node", **kwargs)
        self.sync = StampSync(("image", "tracks"), ("image", "tracks"), self.config.sync_capacity)
        self.subscribe("sensor_msgs/msg/Image", "image", lambda m: self.on_synced("image", m))
        self.subscribe("crowd_perception/msg/TrackArray", "tracks", lambda m: self.on_synced("tracks", m))
        self.image_publisher = self.advertise("sensor_msgs/msg/Image", "debug_image")
        self.marker_publisher = self.advertise("visualization_msgs/msg/MarkerArray", "markers")

    def make_stage(self, runner: Any) -> Any:
        return _DrawStage(self.config, runner if runner is not None else _Drawer())

    def process(self, group: dict[str, Any]) -> None:
        want_image = self.image_publisher.get_subscription_count() > 0
        want_markers = self.marker_publisher.get_subscription_count() > 0
        if not (want_image or want_markers):
            return
        started = time.perf_counter_ns()
        header, tracks = convert.tracks_from_msg(group["tracks"])
        if want_image:
            image = self.decode_image(group["image"])
            if image is None:
                return
            draw_tracks(image, tracks, self.stage.config.confirmed_only)
            self.publish(self.image_publisher, convert.image_to_msg(image, header, self.kit), header, started)
        if want_markers and tracks.poses_3d is not None:
            markers = skeleton_markers(tracks.poses_3d, header, self.kit, ids=tracks.ids)
            self.publish(self.marker_publisher, markers, header, started)


def main(args: list[str] | None = None) -> int:
    return run_node(VisualizerNode, args)


if __name__ == "__main__":  # `python -m` and the launcher CMakeLists.txt installs (runpy)
    exit_node_process(main())
