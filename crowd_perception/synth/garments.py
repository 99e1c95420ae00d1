"""Garment patterns: stripes and checks painted over the tops of people near enough to show them.

People are drawn part by part in flat colours (:mod:`.raster`); afterwards the pixels that the
code map assigns to a person's top (torso, coat, upper arms) get its pattern, a darker or lighter
second tone every ~8 cm of body height. Only the image changes: the labels were read off the same
code map and stay exact. Far people (under ``min_height`` pixels) are skipped, their pattern would
be finer than a pixel.
"""

from __future__ import annotations

import numpy as np

from .body import PART_COLOUR_ROLE, PATTERNS
from .raster import Raster

__all__ = ["paint_patterns"]

_TOP = np.array([role == "top" for role in PART_COLOUR_ROLE])
_STRIPES, _CHECKS = PATTERNS.index("stripes"), PATTERNS.index("checks")


def paint_patterns(image: np.ndarray, raster: Raster, patterns: np.ndarray, min_height: float = 60.0) -> None:
    """Paint each person's pattern (``patterns`` (N,) indices into :data:`~.body.PATTERNS`) onto ``image`` in place."""
    height, width = image.shape[:2]
    boxes = raster.boxes
    tall = (boxes[:, 3] - boxes[:, 1]) >= min_height if len(boxes) else np.zeros(0, bool)
    rows = np.flatnonzero((patterns > 0) & tall)
    if not len(rows):
        return
    top_code = np.zeros(len(raster.code_row), bool)  # code -> whether it is a patterned person's top
    top_code[raster.code_part >= 0] = _TOP[raster.code_part[raster.code_part >= 0]]
    for row in rows:
        box_h = boxes[row, 3] - boxes[row, 1]  # the top lies between 10 % and 65 % of the height
        x0, y0 = max(int(boxes[row, 0]), 0), max(int(boxes[row, 1] + 0.1 * box_h), 0)
        x1, y1 = min(int(boxes[row, 2]) + 2, width), min(int(boxes[row, 1] + 0.65 * box_h) + 2, height)
        if x1 <= x0 or y1 <= y0:
            continue
        codes = raster.code_map[y0:y1, x0:x1]
        top = top_code[codes] & (raster.code_row[codes] == row)
        period = max(2.0, box_h / 22.0)
        ys = ((np.arange(y0, y1) - boxes[row, 1]) // period).astype(np.int64)[:, None]
        xs = ((np.arange(x0, x1) - boxes[row, 0]) // period).astype(np.int64)[None, :]
        second = (ys % 2 == 1) if patterns[row] == _STRIPES else ((ys + xs) % 2 == 1)
        mask = top & second
        roi = image[y0:y1, x0:x1]
        pixels = roi[mask].astype(np.float32)
        if not len(pixels):
            continue
        bright = pixels.mean() > 110.0
        roi[mask] = (pixels * 0.55 if bright else 255.0 - (255.0 - pixels) * 0.55).astype(np.uint8)
