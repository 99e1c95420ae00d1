"""What ``train pose --data images:DIR,bag:PATH`` needs from above the models: person boxes from the
detector node's stage at the tracker node's operating point, and a bag's decoded images.

The boxes are what the running stack would hand the tracker's first association stage: the shipped
detector (model registry, ONNX Runtime on the CPU) through :class:`~crowd_perception.pipeline.stages.DetectorStage`
(its score order and its drop of boxes with a side under ``MIN_BOX_SIDE``), with the detector's score
threshold set to ``TrackerNodeConfig().detection_threshold``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..models.pose2d.unlabeled import PersonBoxes, UnlabeledReaders
from ..models.registry import get_model, load_runner
from ..pipeline.stages import DetectorNodeConfig, DetectorStage, TrackerNodeConfig
from .bag import BagError, BagReader

__all__ = ["split_bag_source", "bag_images", "detector_boxes", "unlabeled_readers"]

_LOG = logging.getLogger(__name__)


def split_bag_source(where: str) -> tuple[str, str | None]:
    """``"PATH"`` -> ``(PATH, None)`` (the bag's own image topic); ``"PATH:/topic"`` -> ``(PATH, "/topic")``."""
    path, colon, topic = where.rpartition(":")
    return (path, topic) if colon and topic.startswith("/") else (where, None)


def bag_images(where: str) -> Iterator[np.ndarray]:
    """The decoded images of ``bag:<where>``'s image topic (``Image`` or ``CompressedImage``), in bag
    order; a bag that cannot be read is a :class:`BagError` naming the source."""
    path, topic = split_bag_source(where)
    try:
        yield from _decoded(path, topic)
    except BagError as exc:
        raise BagError(f"data source 'bag:{where}': {exc}") from None


def _decoded(path: str, topic: str | None) -> Iterator[np.ndarray]:
    """The images of ``topic`` that decode; the others are skipped and counted in a warning."""
    skipped = 0
    with BagReader(path) as reader:
        for frame in reader.frames(topic):
            if frame.image is None:
                skipped += 1
                continue
            yield frame.image
    if skipped:
        _LOG.warning("bag %s: %d images of %s do not decode, skipped", path, skipped, topic or "the image topic")


def detector_boxes(model: Path | str | None = None) -> PersonBoxes:
    """``image -> (N, 4)`` person boxes of the detector ``model`` (default: the shipped one) at the
    tracker node's detection threshold."""
    stage = DetectorStage(
        DetectorNodeConfig(score_threshold=TrackerNodeConfig().detection_threshold),
        load_runner("detector", model or get_model("detector").onnx()),
    )
    return lambda image: stage.process(image).boxes


def unlabeled_readers() -> UnlabeledReaders:
    """The shipped detector's boxes and this package's bag reader, for ``train pose``."""
    return UnlabeledReaders(person_boxes=detector_boxes, bag_images=bag_images)
