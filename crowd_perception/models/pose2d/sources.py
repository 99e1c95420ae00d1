"""The training bank of ``train pose --data``: a weighted mixture of sources, banked part by part.

Each ``source:where@weight`` part (:func:`crowd_perception.formats.mixture.parse_sources`) fills
its weight's share of the bank (:func:`~crowd_perception.formats.mixture.part_sizes`); a real set
smaller than its share repeats its people (random augmentation still differs per draw), as
:class:`~crowd_perception.formats.mixture.MixedDataset` does for the detector.

Parts with keypoints train the pose heads: ``synth:<preset>`` of domain ``a`` (e.g. ``train_a``),
the COCO-style readers ``coco``, ``crowdpose``, ``ochuman`` (with their instance masks) and ``jta``
(a JTA root gives ``annotations/train``). Parts without keypoints (``crowdhuman``, ``citypersons``,
``mot``, ``synth:<preset>`` of domain ``b``) are the domain-adaptation target (Das et al.): their
frames are marked domain ``b``, so the bank keeps their boxes (and masks) only. So are a user's
unlabeled frames, ``images:DIR`` and ``bag:PATH``, boxed by the shipped detector (:mod:`.unlabeled`).
Real still-image sets are banked whole (``frame_stride`` 1); the stride thins video sources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ...core.annotations import FrameAnnotation
from ...core.errors import InputError
from ...formats import FormatError
from ...formats.mixture import SourceSpec, draw_items, part_sizes, read_part
from .data import BankConfig, CropBank, synthetic_frames
from .frame_data import FrameBank
from .unlabeled import TARGET_DOMAIN, UNLABELED_SOURCES, UnlabeledReaders, unlabeled_frames

__all__ = ["TARGET_DOMAIN", "KEYPOINT_READERS", "TARGET_READERS", "is_target", "check_mixture", "part_frames", "mixture_bank"]

KEYPOINT_READERS: dict[str, dict[str, Any]] = {"coco": {"masks": True}, "crowdpose": {"masks": True}, "ochuman": {"masks": True}, "jta": {}}
TARGET_READERS = ("crowdhuman", "citypersons", "mot", *UNLABELED_SOURCES)

Frame = tuple[np.ndarray, FrameAnnotation]
Bank = CropBank | FrameBank
BankBuilder = Callable[[Iterable[Frame], int, BankConfig], Bank]


def _synth_domain(spec: SourceSpec) -> str:
    """The domain (``a`` / ``b``) of synthetic preset ``spec.where``."""
    from ...synth import get_preset

    try:
        return get_preset(spec.where).domain.name
    except ValueError as error:
        raise FormatError(f"data source {spec.name!r}: {error}") from None


def is_target(spec: SourceSpec) -> bool:
    """Whether part ``spec`` has no keypoints (domain-adaptation target only); a source the 2D pose
    model cannot train on is a :class:`FormatError` naming it."""
    if spec.source == "synth":
        return _synth_domain(spec) == TARGET_DOMAIN
    if spec.source in KEYPOINT_READERS or spec.source in TARGET_READERS:
        return spec.source in TARGET_READERS
    known = ", ".join(["synth", *KEYPOINT_READERS, *TARGET_READERS])
    raise FormatError(f"data source {spec.name!r}: train pose reads {known}")


def check_mixture(specs: Sequence[SourceSpec], use_domain: bool) -> None:
    """Refuse a mixture without keypoints, or with target-only parts that nothing would train on."""
    targets = [spec for spec in specs if is_target(spec)]
    if len(targets) == len(specs):
        raise InputError(f"data {','.join(s.name for s in specs)!r}: no source with keypoints (e.g. synth:train_a, coco:<json>)")
    if targets and not use_domain:
        raise InputError(
            f"data source {targets[0].name!r} has no keypoints and trains only the domain-adaptation term: "
            "set model.use_domain=true or leave it out"
        )


def part_frames(
    spec: SourceSpec, bank: BankConfig, seed: int, unlabeled: UnlabeledReaders | None = None
) -> tuple[Iterator[Frame], BankConfig]:
    """The ``(image, annotation)`` stream of one part and the bank settings to cut it with; an
    ``images:`` / ``bag:`` part needs ``unlabeled`` (its detector and bag reader)."""
    if spec.source == "synth":
        return synthetic_frames(spec.where, seed=seed), bank
    if spec.source in UNLABELED_SOURCES:
        if unlabeled is None:
            raise InputError(f"data source {spec.name!r}: unlabeled frames need a person detector: pass unlabeled=ros.unlabeled.unlabeled_readers() (train pose does)")
        return unlabeled_frames(spec, unlabeled, bank)
    dataset = read_part(spec, **KEYPOINT_READERS.get(spec.source, {}))
    frames = dataset.samples()
    if is_target(spec):
        frames = ((image, replace(ann, domain=TARGET_DOMAIN)) for image, ann in frames)
    stills = len(dataset.groups()) == len(dataset)
    return frames, replace(bank, frame_stride=1) if stills else bank


def mixture_bank(
    specs: Sequence[SourceSpec], total: int, bank: BankConfig, build: BankBuilder, seed: int, unlabeled: UnlabeledReaders | None = None
) -> list[Bank]:
    """One bank per part, each of exactly its share of ``total`` items (``build(frames, count,
    settings)`` cuts them; ``unlabeled`` boxes ``images:`` / ``bag:`` parts); a part with no usable
    person is an error naming it."""
    rng = np.random.default_rng(seed)
    banks = []
    for index, (spec, count) in enumerate(zip(specs, part_sizes([s.weight for s in specs], total), strict=True)):
        frames, settings = part_frames(spec, bank, seed + index, unlabeled)
        try:
            part = build(frames, int(count), settings)
        except ValueError as error:
            raise InputError(f"data source {spec.name!r}: {error}{_box_hint(spec)}") from None
        banks.append(part.select(draw_items(len(part), int(count), rng)))
    return banks


def _box_hint(spec: SourceSpec) -> str:
    """Where an unlabeled part's people come from, for its "no usable person" error."""
    return "; its person boxes are the shipped detector's at the tracker's detection_threshold" if spec.source in UNLABELED_SOURCES else ""
