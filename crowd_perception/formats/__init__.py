"""Dataset formats: read the real datasets into :class:`FrameAnnotation` items, write ours out.

The registry lets the synth CLI and the trainers pick a format by name::

    with open_writer("coco", out_dir / "coco", split="val") as writer:
        writer.write(annotation, image_bgr)
    dataset = read_dataset("crowdhuman", "annotation_train.odgt")
    image_path, annotation, meta = dataset[0]

Writers: ``coco`` (COCO-17 keypoints), ``crowdpose`` (the same JSON with CrowdPose-14),
``crowdhuman`` (``.odgt``), ``citypersons`` (``*_gt.json``), ``jta`` (per-sequence joints with
intrinsics), ``mot`` (MOTChallenge, :mod:`crowd_perception.formats.mot`, owned by the tracking
area). Readers: the same names plus ``ochuman`` (COCO-style JSON).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .dataset import AnnotatedDataset, DatasetWriter, FormatError, LabelledImage, image_size, read_image

__all__ = [
    "AnnotatedDataset",
    "DatasetWriter",
    "FormatError",
    "LabelledImage",
    "FORMATS",
    "open_writer",
    "read_dataset",
    "read_image",
    "image_size",
    "writer_names",
    "reader_names",
]


@dataclass(frozen=True)
class _Format:
    """Where a format's writer class and reader function live, and their fixed keyword arguments."""

    module: str
    writer: str | None
    reader: str | None
    writer_defaults: dict[str, Any] = field(default_factory=dict)


FORMATS: dict[str, _Format] = {
    "coco": _Format("coco", "CocoWriter", "read_coco", {"skeleton": "coco17"}),
    "crowdpose": _Format("coco", "CocoWriter", "read_coco", {"skeleton": "crowdpose14"}),
    "ochuman": _Format("coco", None, "read_coco"),
    "crowdhuman": _Format("crowdhuman", "CrowdHumanWriter", "read_crowdhuman"),
    "citypersons": _Format("citypersons", "CityPersonsWriter", "read_citypersons"),
    "jta": _Format("jta", "JtaWriter", "read_jta"),
    "mot": _Format("mot", "MotWriter", "read_mot"),
}


def _lookup(name: str, role: str) -> Any:
    spec = FORMATS.get(name)
    attribute = getattr(spec, role, None) if spec else None
    if spec is None or attribute is None:
        known = writer_names() if role == "writer" else reader_names()
        raise ValueError(f"no {role} for format {name!r}; known: {known}")
    return getattr(importlib.import_module(f"{__name__}.{spec.module}"), attribute)


def writer_names() -> list[str]:
    return sorted(n for n, f in FORMATS.items() if f.writer)


def reader_names() -> list[str]:
    return sorted(n for n, f in FORMATS.items() if f.reader)


def open_writer(name: str, out_dir: str | Path, **kwargs: Any) -> DatasetWriter:
    """A writer for format ``name`` under ``out_dir`` (``split``, ``image_ext``, ... as keywords)."""
    return _lookup(name, "writer")(out_dir, **{**FORMATS[name].writer_defaults, **kwargs})


def read_dataset(name: str, path: str | Path, **kwargs: Any) -> AnnotatedDataset:
    """Index the dataset annotation file (or folder, for ``jta``) at ``path`` in format ``name``."""
    return _lookup(name, "reader")(path, **kwargs)
