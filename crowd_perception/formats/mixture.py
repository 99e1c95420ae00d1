"""Weighted mixtures of annotated datasets, for training on several sources at once.

A mixture is written ``source:where@weight`` entries joined by commas, e.g.
``synth:train_a@0.5,crowdhuman:/data/CrowdHuman/annotation_train.odgt@0.3,coco:/data/coco/person_keypoints_train2017.json@0.2``
(weight 1 when left out). :class:`MixedDataset` presents the parts as one map-style dataset whose
"epoch" draws each part in proportion to its weight, whatever its size (a 500-image real set
next to 50k synthetic frames still gives its share of every batch), and keeps identity labels
apart by offsetting each part's ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..core.annotations import FrameAnnotation
from .dataset import AnnotatedDataset, FormatError

__all__ = ["SourceSpec", "parse_sources", "MixedDataset"]


@dataclass(frozen=True)
class SourceSpec:
    """One part of a mixture: reader ``source`` (or ``synth``), what it reads (``where``), its weight."""

    source: str
    where: str
    weight: float = 1.0


def parse_sources(text: str) -> list[SourceSpec]:
    """``"a:x@0.7,b:y"`` -> ``[SourceSpec("a", "x", 0.7), SourceSpec("b", "y", 1.0)]``."""
    specs = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        body, at, weight_text = entry.rpartition("@") if "@" in entry else (entry, "", "")
        source, colon, where = body.partition(":")
        if not colon or not source or not where:
            raise FormatError(
                f"data source {entry!r}: expected 'source:where[@weight]' (e.g. coco:/data/coco.json@0.3)"
            )
        try:
            weight = float(weight_text) if at else 1.0
        except ValueError:
            raise FormatError(f"data source {entry!r}: weight {weight_text!r} is not a number") from None
        if not np.isfinite(weight) or weight <= 0:
            raise FormatError(f"data source {entry!r}: weight must be a positive number, got {weight_text}")
        specs.append(SourceSpec(source, where, weight))
    if not specs:
        raise FormatError("no data source given")
    return specs


class MixedDataset:
    """Parts drawn in proportion to their weights: ``load(i) -> (image, annotation)``, ``len`` = epoch size.

    ``length`` (default: all parts' images together) is split by weight; a part asked for more
    images than it has repeats them, one asked for fewer gets a random subset (fixed by ``seed``).
    ``identity_counts[p]`` is the number of identity classes of part ``p``: its ids are offset by
    the counts before it, so :attr:`num_identities` classes stay distinct across parts.
    """

    def __init__(
        self,
        parts: Sequence[AnnotatedDataset],
        weights: Sequence[float],
        identity_counts: Sequence[int] | None = None,
        length: int = 0,
        seed: int = 0,
    ) -> None:
        if len(parts) != len(weights) or not parts:
            raise ValueError(f"{len(parts)} parts for {len(weights)} weights")
        empty = [p.name for p in parts if len(p) == 0]
        if empty:
            raise FormatError(f"data source {empty[0]!r} has no images")
        self.parts = list(parts)
        counts = list(identity_counts) if identity_counts is not None else [0] * len(parts)
        self.id_offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.num_identities = int(sum(counts))
        total = length or sum(len(p) for p in parts)
        share = np.asarray(weights, dtype=np.float64) / float(np.sum(weights))
        draws = np.maximum(1, np.round(share * total).astype(int))
        rng = np.random.default_rng(seed)
        index = []
        for p, (part, n) in enumerate(zip(self.parts, draws, strict=True)):
            items = rng.choice(len(part), size=n, replace=n > len(part))
            index.append(np.stack([np.full(n, p), items], axis=1))
        self._index = np.concatenate(index)

    def __len__(self) -> int:
        return len(self._index)

    def part_of(self, index: int) -> int:
        """Which part item ``index`` comes from."""
        return int(self._index[index, 0])

    def load(self, index: int) -> tuple[np.ndarray, FrameAnnotation]:
        p, item = (int(v) for v in self._index[index])
        image, ann = self.parts[p].load(item)
        if self.id_offsets[p]:
            ids = ann.persons.ids
            ann = replace(ann, persons=replace(ann.persons, ids=np.where(ids >= 0, ids + self.id_offsets[p], ids)))
        return image, ann
