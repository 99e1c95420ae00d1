"""``detector_node``: image (``sensor_msgs/Image``, or ``CompressedImage`` by parameter) -> ``detections``
(``crowd_perception/DetectionArray`` with appearance embeddings, header of the image)."""

from __future__ import annotations

import time
from typing import Any

from ...core.types import Detections
from ...pipeline.stages import DetectorNodeConfig, DetectorStage
from .. import convert
from .base import StageNode, exit_node_process, run_node

__all__ = ["DetectorNode", "main"]


class DetectorNode(StageNode):
    CONFIG = DetectorNodeConfig
    config: DetectorNodeConfig
    STAGE = DetectorStage
    STAGE_NAME = "detection"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("detector_node", **kwargs)
        if self.config.compressed_input:
            self.subscribe("sensor_msgs/msg/CompressedImage", "image/compressed", self.on_input)
        else:
            self.subscribe("sensor_msgs/msg/Image", "image", self.on_input)
        self.publisher = self.advertise("crowd_perception/msg/DetectionArray", "detections")

    def process(self, msg: Any) -> None:
        started = time.perf_counter_ns()
        image = self.decode_image(msg)
        header = convert.header_from_msg(msg.header)
        detections = self.stage.process(image) if image is not None else Detections.empty()  # rejected: empty result
        self.publish(self.publisher, convert.detections_to_msg(detections, header, self.kit), header, started)


def main(args: list[str] | None = None) -> int:
    return run_node(DetectorNode, args)


if __name__ == "__main__":  # `python -m` and the launcher CMakeLists.txt installs (runpy)
    exit_node_process(main())
