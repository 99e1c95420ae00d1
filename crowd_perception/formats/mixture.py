"""Weighted mixtures of annotated datasets, for training on several sources at once.

A mixture is written ``source:where@weight`` entries joined by commas, e.g.
``synth:train_a@0.5,crowdhuman:/data/CrowdHuman/annotation_train.odgt@0.3,coco:/data/coco/person_keypoints_train2017.json@0.2``
(weight 1 when left out). :class:`MixedDataset` presents the parts as one map-style dataset whose
"epoch" draws each part in proportion to its weight, whatever its size (a 500-image real set
next to 50k synthetic frames still gives its share of every batch), and keeps identity labels
apart by offsetting each part's ids. :func:`part_sizes` and :func:`draw_items` are that share
rule on its own (for trainers that bank their frames), :func:`interleave` its endless-stream form
(for trainers that stream them) and :func:`read_part` opens a part that a format reader reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..core.annotations import FrameAnnotation
from . import read_dataset
from .dataset import AnnotatedDataset, FormatError

__all__ = ["SourceSpec", "parse_sources", "part_sizes", "draw_items", "interleave", "read_part", "MixedDataset"]

T = TypeVar("T")
_END = object()  # a stream that has ended


@dataclass(frozen=True)
class SourceSpec:
    """One part of a mixture: reader ``source`` (or ``synth``), what it reads (``where``), its weight."""

    source: str
    where: str
    weight: float = 1.0

    @property
    def name(self) -> str:
        """``source:where``, how error messages name the part."""
        return f"{self.source}:{self.where}"


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


def part_sizes(weights: Sequence[float], total: int) -> np.ndarray:
    """Items each part gives out of ``total``: its share of the weights, rounded, at least 1 (so a
    light part is never left out)."""
    share = np.asarray(weights, dtype=np.float64) / float(np.sum(weights))
    return np.maximum(1, np.round(share * total).astype(int))


def draw_items(available: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` indices into a part of ``available`` items: a random subset, or with repeats when
    the part is smaller than its share."""
    return rng.choice(available, size=count, replace=count > available)


def interleave(specs: Sequence[SourceSpec], stream: Callable[[SourceSpec], Iterable[T]]) -> Iterator[T]:
    """Endless items of the parts ``stream(spec)``, each part in proportion to its weight.

    Deterministic smooth weighted round robin: every draw goes to the part furthest behind its
    share, so any run of draws matches the weights to within one item per part. A part that ends
    starts over; one that gives nothing from its start is a :class:`FormatError` naming it.
    """
    weights = np.array([spec.weight for spec in specs], dtype=np.float64)
    credit = np.zeros_like(weights)
    streams = [iter(stream(spec)) for spec in specs]
    while True:
        credit += weights
        p = int(np.argmax(credit))
        credit[p] -= weights.sum()
        yield _next_or_restart(streams, p, specs[p], stream)


def _next_or_restart(
    streams: list[Iterator[T]], p: int, spec: SourceSpec, stream: Callable[[SourceSpec], Iterable[T]]
) -> T:
    """The next item of part ``p``, starting the part over when it has ended."""
    item = next(streams[p], _END)
    if item is _END:
        streams[p] = iter(stream(spec))
        item = next(streams[p], _END)
    if item is _END:
        raise FormatError(f"data source {spec.name!r} has no images")
    return item  # type: ignore[return-value]


def read_part(spec: SourceSpec, split: str = "train", **kwargs: Any) -> AnnotatedDataset:
    """The dataset of a part read by format reader ``spec.source`` (keyword arguments go to the
    reader); a JTA part names the dataset's root, of which it reads ``annotations/<split>/``."""
    path = Path(spec.where) / "annotations" / split if spec.source == "jta" else Path(spec.where)
    return read_dataset(spec.source, path, **kwargs)


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
        draws = part_sizes(weights, length or sum(len(p) for p in parts))
        rng = np.random.default_rng(seed)
        index = []
        for p, (part, n) in enumerate(zip(self.parts, draws, strict=True)):
            items = draw_items(len(part), n, rng)
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
