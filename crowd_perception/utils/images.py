"""Image files of a folder, in one order for every reader of image folders (bag import, the
pose trainer's unlabeled frames, the pipeline bench's real scenes)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

__all__ = ["IMAGE_SUFFIXES", "image_files"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".ppm", ".pgm", ".webp")  # what OpenCV reads


def _natural_key(path: Path) -> list[int | str]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.as_posix())]


def image_files(folder: Path, recursive: bool = False, suffixes: Sequence[str] = IMAGE_SUFFIXES) -> list[Path]:
    """The files under ``folder`` (and its sub-folders when ``recursive``) whose suffix is in ``suffixes``,
    in natural order of their path below ``folder`` (``2.jpg`` before ``10.jpg``); empty when there are none."""
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    files = [p for p in candidates if p.is_file() and p.suffix.lower() in suffixes]
    return sorted(files, key=lambda p: _natural_key(p.relative_to(folder)))
