"""Torch-free dataset plumbing shared by every format: lazy indexed datasets, image I/O and the
writer base class.

A reader parses its annotation file once into light per-image records and returns an
:class:`AnnotatedDataset`; the :class:`~crowd_perception.core.annotations.FrameAnnotation` of an
image (and its instance map, which can be large) is only built when that item is accessed, so
the index of a 60k-image dataset stays small and a training ``DataLoader`` can wrap it directly.
"""

from __future__ import annotations

import json
import os
import re
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

import cv2
import numpy as np

from ..core.annotations import FrameAnnotation
from ..core.errors import CrowdPerceptionError

__all__ = [
    "FormatError",
    "LabelledImage",
    "AnnotatedDataset",
    "DatasetWriter",
    "read_image",
    "image_size",
    "load_json",
    "safe_name",
]

R = TypeVar("R")
W = TypeVar("W", bound="DatasetWriter")


class FormatError(CrowdPerceptionError, ValueError):
    """A dataset file that does not follow its format; the message names the file and the entry."""


class LabelledImage(NamedTuple):
    """One dataset item: where the image is, its ground truth, and format-specific extras.

    ``meta`` holds what a :class:`FrameAnnotation` has no field for (the original COCO image id
    and annotation ids, CrowdPose's crowd index, CrowdHuman head boxes, ...), documented by
    each reader.
    """

    image_path: Path
    annotation: FrameAnnotation
    meta: dict[str, Any]


class AnnotatedDataset(Sequence[LabelledImage], Generic[R]):
    """Random-access dataset of :class:`LabelledImage`, decoded on access from parsed records.

    ``records`` are whatever the reader keeps per image (raw JSON dicts, row slices);
    ``decode`` turns one into a :class:`LabelledImage`. Indexing with a slice or an index array
    gives a sub-dataset sharing the same records. ``group`` maps a record to its sequence (video)
    without decoding it, for samplers that keep sequences together (see :meth:`groups`).
    """

    def __init__(
        self,
        name: str,
        records: Sequence[R],
        decode: Callable[[R], LabelledImage],
        group: Callable[[R], Hashable] | None = None,
    ) -> None:
        self.name = name
        self._records = records
        self._decode = decode
        self._group = group

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return self.subset(range(len(self))[index])
        if not -len(self) <= index < len(self):
            raise IndexError(f"{self.name}: index {index} out of range for {len(self)} images")
        return self._decode(self._records[index])

    def __iter__(self) -> Iterator[LabelledImage]:
        for record in self._records:
            yield self._decode(record)

    def __repr__(self) -> str:
        return f"AnnotatedDataset({self.name!r}, {len(self)} images)"

    def subset(self, indices: Sequence[int] | np.ndarray) -> AnnotatedDataset[R]:
        """The images at ``indices`` (e.g. a train/val split or a filtered list), in that order."""
        return AnnotatedDataset(self.name, [self._records[int(i)] for i in indices], self._decode, self._group)

    def groups(self) -> dict[Hashable, list[int]]:
        """Item indices per sequence, in order (one group per item when the format has no sequences)."""
        out: dict[Hashable, list[int]] = {}
        for i, record in enumerate(self._records):
            out.setdefault(self._group(record) if self._group else i, []).append(i)
        return out

    def load(self, index: int) -> tuple[np.ndarray, FrameAnnotation]:
        """BGR image and ground truth of item ``index`` (what a training loop needs)."""
        item = self[index]
        return read_image(item.image_path), item.annotation

    def samples(self) -> Iterator[tuple[np.ndarray, FrameAnnotation]]:
        """``(image_bgr, annotation)`` pairs in order, read one at a time (like the synth generator)."""
        for item in self:
            yield read_image(item.image_path), item.annotation


def read_image(path: str | Path) -> np.ndarray:
    """``(H, W, 3)`` uint8 BGR image (grey images are expanded); clear error if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FormatError(f"cannot decode image {path}")
    return image


def image_size(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` of a PNG or JPEG read from its header (no decoding); other files are decoded."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(26)
        if head[:8] == b"\x89PNG\r\n\x1a\n":
            width, height = struct.unpack(">II", head[16:24])
            return int(width), int(height)
        if head[:2] == b"\xff\xd8":
            size = _jpeg_size(f)
            if size is not None:
                return size
    image = read_image(path)
    return image.shape[1], image.shape[0]


def _jpeg_size(f) -> tuple[int, int] | None:
    """Walk the JPEG markers to the first start-of-frame segment."""
    f.seek(2)
    while True:
        marker = f.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        code = marker[1]
        if code in (0xD8, 0x01) or 0xD0 <= code <= 0xD7:
            continue
        length_bytes = f.read(2)
        if len(length_bytes) < 2:
            return None
        length = struct.unpack(">H", length_bytes)[0]
        if 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):
            data = f.read(5)
            height, width = struct.unpack(">HH", data[1:5])
            return int(width), int(height)
        f.seek(length - 2, os.SEEK_CUR)


def load_json(path: str | Path) -> Any:
    """Parse a JSON file, turning a missing or broken file into a clear error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as error:
        raise FormatError(f"{path}: not valid JSON ({error})") from None


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a crash never leaves a half-written annotation file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"), allow_nan=False)
    os.replace(tmp, path)


def safe_name(name: str) -> str:
    """A file-name-safe version of an image or sequence id (path separators and odd characters -> ``_``)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    if not cleaned:
        raise ValueError(f"cannot make a file name from {name!r}")
    return cleaned


def require(condition: bool, message: str) -> None:
    """Raise :class:`FormatError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise FormatError(message)


class DatasetWriter(ABC):
    """Writes ``(FrameAnnotation, image)`` pairs as images plus annotations in one format.

    Subclasses set ``image_path`` layout and collect annotations in ``_add``; ``close`` writes
    what is buffered (also when leaving a ``with`` block through an exception, so nothing already
    generated is lost). ``image_ext`` is ``.jpg`` (``jpeg_quality``) or ``.png`` (lossless).
    """

    format_name: ClassVar[str]

    def __init__(self, out_dir: str | Path, split: str = "train", image_ext: str = ".jpg", jpeg_quality: int = 95):
        if image_ext not in (".jpg", ".png"):
            raise ValueError(f"image_ext must be '.jpg' or '.png', got {image_ext!r}")
        self.out_dir = Path(out_dir)
        self.split = safe_name(split)
        self.image_ext = image_ext
        self.jpeg_quality = int(jpeg_quality)
        self.count = 0
        self._written: set[Path] = set()
        self._closed = False

    def write(self, annotation: FrameAnnotation, image_bgr: np.ndarray) -> Path:
        """Save the image and record its annotation; returns the image path."""
        if self._closed:
            raise RuntimeError(f"{self.format_name} writer for {self.out_dir} is closed")
        image_bgr = np.asarray(image_bgr)
        if image_bgr.dtype != np.uint8 or image_bgr.shape != (annotation.height, annotation.width, 3):
            raise ValueError(
                f"{annotation.image_id}: expected a {annotation.height}x{annotation.width}x3 uint8 BGR image, "
                f"got {image_bgr.shape} {image_bgr.dtype}"
            )
        path = self.out_dir / self.image_path(annotation)
        if path in self._written:
            raise ValueError(f"{self.format_name}: two frames map to the same image file {path}")
        self._add(annotation, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        params = [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality] if self.image_ext == ".jpg" else []
        if not cv2.imwrite(str(path), image_bgr, params):
            raise OSError(f"could not write image {path}")
        self._written.add(path)
        self.count += 1
        return path

    @abstractmethod
    def image_path(self, annotation: FrameAnnotation) -> Path:
        """Image path relative to ``out_dir``."""

    @abstractmethod
    def _add(self, annotation: FrameAnnotation, image_path: Path) -> None:
        """Convert and buffer (or stream) the annotation of one image."""

    @abstractmethod
    def _finish(self) -> None:
        """Write buffered annotation files and release open ones."""

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._finish()

    def __enter__(self: W) -> W:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
