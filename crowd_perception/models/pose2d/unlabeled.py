"""Unlabeled real frames as the domain-adaptation target of ``train pose --data``: ``images:DIR``, ``bag:PATH``.

A user's own camera frames carry no labels, but the DANN domain classifier (:mod:`.grl`) works per
person RoI, so each frame needs person boxes: they come from the shipped detector at the tracker
node's operating point, once, while the bank is built (the bank cache keeps them). Frames are
domain ``b`` without keypoints or masks.

``images:DIR`` reads the ``.jpg`` / ``.jpeg`` / ``.png`` files under ``DIR`` recursively (a
recording folder often holds one sub-folder per sequence), sorted by their path relative to
``DIR``; each file is a still (no frame stride). ``bag:PATH`` reads a rosbag2's image topic
(``sensor_msgs/Image`` or ``CompressedImage``; ``bag:PATH:/topic`` names one when the bag has
several) and, being video, keeps every ``frame_stride``-th image before the detector runs.

Reading bags and the detector's operating point live in layers above the models (``ros``,
``pipeline``); they come in as an :class:`UnlabeledReaders`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

import cv2
import numpy as np

from ...core.annotations import FrameAnnotation, PersonAnnotations
from ...formats import FormatError
from ...formats.mixture import SourceSpec
from ...utils.images import image_files as folder_images
from .data import BankConfig

__all__ = ["TARGET_DOMAIN", "UNLABELED_SOURCES", "IMAGE_SUFFIXES", "PersonBoxes", "UnlabeledReaders", "image_files", "decoded", "unlabeled_frames"]

_log = logging.getLogger(__name__)
UNLABELED_SOURCES = ("images", "bag")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
TARGET_DOMAIN = "b"  # the frame domain that the bank builders keep without keypoints
SKELETON = "coco17"  # the boxes-only people's skeleton (they have no keypoints; the bank converts any)

PersonBoxes = Callable[[np.ndarray], np.ndarray]  # BGR image -> (N, 4) xyxy person boxes
Frame = tuple[np.ndarray, FrameAnnotation]


@dataclass(frozen=True)
class UnlabeledReaders:
    """What banks unlabeled frames: ``person_boxes()`` makes the box finder (called once per part,
    so the detector loads only when such a part is banked) and ``bag_images(where)`` yields the
    decoded BGR images of ``bag:<where>``."""

    person_boxes: Callable[[], PersonBoxes]
    bag_images: Callable[[str], Iterator[np.ndarray]]


def image_files(folder: Path | str) -> list[Path]:
    """The image files under ``folder`` (recursive, sorted by relative path); a missing or image-less
    folder is a :class:`FormatError` naming the source."""
    root = Path(folder)
    if not root.is_dir():
        raise FormatError(f"data source 'images:{folder}': not a folder")
    files = folder_images(root, recursive=True, suffixes=IMAGE_SUFFIXES)
    if not files:
        raise FormatError(f"data source 'images:{folder}': no {'/'.join(IMAGE_SUFFIXES)} files under it")
    return files


def decoded(files: Iterable[Path]) -> Iterator[np.ndarray]:
    """The BGR images of ``files``; a file that does not decode is skipped with a warning (one bad
    file does not lose a recording)."""
    for path in files:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            _log.warning("%s does not decode as an image, skipped", path)
            continue
        yield image


def _annotation(image: np.ndarray, boxes: np.ndarray, name: str) -> FrameAnnotation:
    """A target-domain annotation of ``image``: its person boxes, nothing else."""
    height, width = image.shape[:2]
    return FrameAnnotation(name, width, height, PersonAnnotations(SKELETON, boxes), domain=TARGET_DOMAIN)


def _boxed(images: Iterable[np.ndarray], person_boxes: PersonBoxes, source: str) -> Iterator[Frame]:
    """``(image, annotation)`` of each image with the boxes ``person_boxes`` finds in it."""
    for index, image in enumerate(images):
        yield image, _annotation(image, person_boxes(image), f"{source}#{index}")


def unlabeled_frames(spec: SourceSpec, readers: UnlabeledReaders, bank: BankConfig) -> tuple[Iterator[Frame], BankConfig]:
    """The target-domain frame stream of an ``images:`` / ``bag:`` part and the bank settings to cut it with
    (the stride is applied here, before the detector runs)."""
    if spec.source == "images":
        images: Iterable[np.ndarray] = decoded(image_files(spec.where))
    else:
        images = islice(readers.bag_images(spec.where), 0, None, max(bank.frame_stride, 1))
    return _boxed(images, readers.person_boxes(), spec.name), replace(bank, frame_stride=1)
