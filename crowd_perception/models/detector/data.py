"""Detector training data: synthetic frames (cached once as CrowdHuman ``.odgt`` + JPEGs) and the
real formats the package reads (CrowdHuman, CityPersons, MOTChallenge), turned into letterboxed,
augmented, normalised tensors with per-image targets.

Targets per image: ``boxes (G, 4)`` full-body xyxy in network-input pixels, ``ignore (G,)`` (ignore
regions, people hidden below ``min_visibility``, people smaller than ``min_height`` or mostly cut
off by the crop) and ``ids (G,)`` identity classes for the JDE loss (-1 = unknown). Synthetic
identities are made global when the cache is written (``(sequence, id)`` -> one class index).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from ...core.annotations import FrameAnnotation
from ...core.boxes import box_area, clip_boxes
from ...formats import AnnotatedDataset, open_writer, read_dataset
from ...formats.mixture import MixedDataset, parse_sources
from ...runtime.metadata import Normalization
from ...runtime.preprocess import letterbox, normalize

__all__ = [
    "DataConfig",
    "synth_frames",
    "cache_folder",
    "cache_synth",
    "open_frames",
    "open_mixture",
    "identity_classes",
    "count_identities",
    "frame_targets",
    "augment",
    "DetectionDataset",
    "collate",
]

_log = logging.getLogger(__name__)
NORMALIZATION = Normalization()  # ImageNet mean/std, RGB: recorded in the ONNX metadata for the runner


@dataclass
class DataConfig:
    """Where frames come from and how they are augmented.

    ``source``: ``"synth"`` (preset ``preset`` rendered with ``sequences`` x ``frames`` frames at the
    network input size and cached under ``cache_dir``), or a reader name (``"crowdhuman"``,
    ``"citypersons"``, ``"coco"``, ``"mot"``, ...) with ``path`` its annotation file / folder.
    ``mix`` (``train detector --data``), when set, replaces both: a weighted mixture of sources
    (:func:`crowd_perception.formats.mixture.parse_sources`; ``synth:<preset>`` entries use the
    settings above), ``mix_length`` images per epoch (0: all parts' images together).
    """

    source: str = "synth"
    mix: str = ""
    mix_length: int = 0
    preset: str = "train_a"
    sequences: int = 120
    frames: int = 8
    seed: int = 0
    path: str = ""
    cache_dir: str = "data/detector"
    min_visibility: float = 0.1
    min_height: float = 8.0
    min_inside: float = 0.3  # a person cut by the crop to less than this share of its box is ignored
    crop: tuple[int, int] = (0, 0)  # training canvas (h, w) cut from the scaled image; (0, 0): the input size
    hflip: float = 0.5
    scale_range: tuple[float, float] = (0.7, 1.3)
    color_jitter: float = 0.2


def synth_frames(preset: str, seed: int, size: tuple[int, int], sequences: int = 0, frames: int = 0) -> Iterator:
    """``(image, FrameAnnotation)`` of synthetic preset ``preset`` rendered at ``size = (h, w)``
    (``sequences`` / ``frames`` > 0 resize every sequence group; 0 keeps the preset's)."""
    from ...synth import generate, get_preset

    config = get_preset(preset).with_image_size(size[1], size[0])
    if sequences or frames:
        config = config.with_frames(sequences or None, frames or None)
    for sample in generate(config, seed=seed):
        yield sample.image, sample.annotation


def cache_folder(cfg: DataConfig, size: tuple[int, int]) -> Path:
    """Where :func:`cache_synth` puts a split: named by preset, sizes, seed and image size."""
    return Path(cfg.cache_dir) / f"{cfg.preset}_s{cfg.sequences}_f{cfg.frames}_seed{cfg.seed}_{size[1]}x{size[0]}"


def cache_synth(cfg: DataConfig, size: tuple[int, int]) -> Path:
    """Render the synthetic split once into ``cache_dir`` (CrowdHuman layout, global identity ids in
    ``extra.track_id``, ``identities.json``); returns the ``.odgt`` path. A finished cache is reused."""
    folder = cache_folder(cfg, size)
    done = folder / "identities.json"
    odgt = folder / "annotation_train.odgt"
    if done.is_file() and odgt.is_file():
        return odgt
    _log.info("rendering synthetic %s into %s", cfg.preset, folder)
    identities: dict[tuple[str, int], int] = {}
    with open_writer("crowdhuman", folder, split="train") as writer:
        for image, ann in synth_frames(cfg.preset, cfg.seed, size, cfg.sequences, cfg.frames):
            ids = np.array(
                [
                    identities.setdefault((ann.sequence, int(i)), len(identities)) if i >= 0 else -1
                    for i in ann.persons.ids
                ],
                dtype=np.int64,
            )
            persons = replace(ann.persons, ids=ids)
            writer.write(replace(ann, persons=persons), image)
    done.write_text(json.dumps({"num_identities": len(identities), "frames": writer.count}) + "\n", encoding="utf-8")
    return odgt


def open_frames(cfg: DataConfig, size: tuple[int, int]) -> AnnotatedDataset | MixedDataset:
    """The frames of ``cfg.source`` (or the mixture ``cfg.mix``): ``.load(i) -> (image, annotation)``."""
    return open_mixture(cfg, size) if cfg.mix else _open_source(cfg, size)


def _open_source(cfg: DataConfig, size: tuple[int, int]) -> AnnotatedDataset:
    """The frames of one source (``cfg.mix`` unset)."""
    if cfg.source == "synth":
        return read_dataset("crowdhuman", cache_synth(cfg, size))
    if not cfg.path:
        raise ValueError(f"data source {cfg.source!r} needs data.path (its annotation file or folder)")
    if cfg.source == "mot":
        from ...formats.mot import read_mot

        return read_mot(cfg.path)
    return read_dataset(cfg.source, cfg.path)


def open_mixture(cfg: DataConfig, size: tuple[int, int]) -> MixedDataset:
    """The weighted mixture ``cfg.mix``; synthetic parts count their identities from the cache index."""
    parts: list[AnnotatedDataset] = []
    identities: list[int] = []
    specs = parse_sources(cfg.mix)
    for spec in specs:
        single = replace(cfg, mix="", source=spec.source, preset=spec.where, path=spec.where)
        frames = _open_source(single, size)
        parts.append(frames)
        identities.append(identity_classes(single, size, frames))
    return MixedDataset(parts, [spec.weight for spec in specs], identities, length=cfg.mix_length, seed=cfg.seed)


def identity_classes(cfg: DataConfig, size: tuple[int, int], frames: AnnotatedDataset | MixedDataset) -> int:
    """Identity classes of frames opened by :func:`open_frames` for ``cfg``: a mixture's sum over its
    parts, a rendered synthetic split's index (written by :func:`cache_synth`), else max id + 1."""
    if isinstance(frames, MixedDataset):
        return frames.num_identities
    if cfg.source == "synth":
        info = cache_folder(cfg, size) / "identities.json"
        return int(json.loads(info.read_text(encoding="utf-8"))["num_identities"])
    return count_identities(frames)


def count_identities(frames: AnnotatedDataset) -> int:
    """Number of identity classes: ``max id + 1`` over the dataset (0 when nobody has an id)."""
    top = -1
    for item in frames:
        ids = item.annotation.persons.ids
        if len(ids):
            top = max(top, int(ids.max()))
    return top + 1


def frame_targets(ann: FrameAnnotation, cfg: DataConfig) -> dict[str, np.ndarray]:
    """Boxes, ignore flags and ids of one annotation in its own pixels (ignore regions appended)."""
    persons = ann.persons
    vis = persons.visible_fractions
    hidden = np.isfinite(vis) & (vis < cfg.min_visibility)
    boxes = np.concatenate([persons.boxes, ann.ignore_regions]).astype(np.float32)
    ignore = np.concatenate([hidden, np.ones(len(ann.ignore_regions), dtype=bool)])
    ids = np.concatenate([np.where(hidden, -1, persons.ids), np.full(len(ann.ignore_regions), -1)]).astype(np.int64)
    return {"boxes": boxes, "ignore": ignore, "ids": ids}


def _finish_targets(t: dict[str, np.ndarray], size: tuple[int, int], cfg: DataConfig) -> dict[str, np.ndarray]:
    """Drop boxes outside the input; mark people too small or mostly cut off as ignored."""
    h, w = size
    boxes = t["boxes"]
    inside = clip_boxes(boxes, w, h)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = box_area(inside) / box_area(boxes)
    keep = box_area(inside) > 0
    weak = (share < cfg.min_inside) | (boxes[:, 3] - boxes[:, 1] < cfg.min_height)
    ignore = t["ignore"] | weak
    ids = np.where(ignore, -1, t["ids"])
    # ignore regions only matter where they are in the image: keep their clipped part
    boxes = np.where(ignore[:, None], inside, boxes)
    return {"boxes": boxes[keep], "ignore": ignore[keep], "ids": ids[keep]}


def augment(
    image: np.ndarray,
    targets: dict[str, np.ndarray],
    size: tuple[int, int],
    cfg: DataConfig,
    rng: np.random.Generator,
    canvas_size: tuple[int, int] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Random scale (around the letterbox scale for ``size``), translation, horizontal flip and
    colour jitter, as one affine warp onto a ``canvas_size`` canvas (default ``size``; a smaller
    canvas is a random crop at deployment scale, cheaper to train on)."""
    out_h, out_w = canvas_size or size
    src_h, src_w = image.shape[:2]
    s = min(size[0] / src_h, size[1] / src_w) * rng.uniform(*cfg.scale_range)
    free_x, free_y = out_w - src_w * s, out_h - src_h * s
    tx = rng.uniform(min(0.0, free_x), max(0.0, free_x))
    ty = rng.uniform(min(0.0, free_y), max(0.0, free_y))
    flip = rng.random() < cfg.hflip
    m = np.array([[-s if flip else s, 0.0, out_w - tx if flip else tx], [0.0, s, ty]], dtype=np.float64)
    canvas = cv2.warpAffine(image, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=(114, 114, 114))
    boxes = targets["boxes"].astype(np.float64)
    x = boxes[:, [0, 2]] * m[0, 0] + m[0, 2]
    y = boxes[:, [1, 3]] * s + ty
    boxes = np.stack([x.min(1), y[:, 0], x.max(1), y[:, 1]], 1).astype(np.float32)
    if cfg.color_jitter > 0:
        gain = 1 + rng.uniform(-cfg.color_jitter, cfg.color_jitter, size=3)
        bias = rng.uniform(-cfg.color_jitter, cfg.color_jitter) * 64
        canvas = np.clip(canvas.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)
    return canvas, {**targets, "boxes": boxes}


class DetectionDataset:
    """Map-style dataset over an :class:`AnnotatedDataset`: ``(image (3, H, W) float32, targets)``.

    ``train=True`` augments with a generator seeded by ``(seed, loader shard)``, so a run is
    reproducible for a given worker count; ``train=False`` letterboxes exactly like the runtime runner.
    """

    def __init__(
        self,
        frames: AnnotatedDataset | MixedDataset,
        size: tuple[int, int],
        cfg: DataConfig,
        train: bool = True,
        seed: int = 0,
    ) -> None:
        self.frames = frames
        self.size = size
        self.cfg = cfg
        self.train = train
        self.seed = seed
        self._rng: np.random.Generator | None = None

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        image, ann = self.frames.load(index)
        targets = frame_targets(ann, self.cfg)
        if self.train:
            if self._rng is None:  # created in the worker process that uses it
                from ...training.data import shard_info

                self._rng = np.random.default_rng([self.seed, shard_info()[0]])
            canvas_size = (self.cfg.crop[0], self.cfg.crop[1]) if all(self.cfg.crop) else self.size
            canvas, targets = augment(image, targets, self.size, self.cfg, self._rng, canvas_size)
        else:
            canvas, transform = letterbox(image, self.size)
            targets = {**targets, "boxes": transform.boxes_to_input(targets["boxes"])}
        return normalize(canvas, NORMALIZATION)[0], _finish_targets(targets, canvas.shape[:2], self.cfg)


def collate(items: Sequence[tuple[np.ndarray, dict[str, np.ndarray]]]):
    """Stack images into one tensor; targets stay a list of per-image tensor dicts."""
    import torch

    images = torch.from_numpy(np.stack([im for im, _ in items]))
    targets = [{k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in t.items()} for _, t in items]
    return images, targets
