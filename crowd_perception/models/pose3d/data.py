"""Training samples for PandaNet: frames from the synthetic engine (or a JTA folder), letterboxed
to the network input, with anchor matches (``targets.match_anchors``) and normalised 3D poses.

Ground-truth people are those at least ``min_visible_fraction`` visible and ``min_height_px`` tall
in the network input; the others are left out of the targets (their anchors are negatives).
A random horizontal flip mirrors the image, the 2D joints and the root-relative 3D pose
(``x -> -x``) and swaps left and right joints.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import IterableDataset

from ...core.annotations import FrameAnnotation, PersonAnnotations
from ...core.skeletons import convert_keypoints, get_skeleton
from ...formats.mixture import SourceSpec, interleave, read_part
from ...runtime.metadata import Normalization
from ...runtime.preprocess import ImageTransform, letterbox, normalize
from ...training.data import worker_seed
from .anchors import kmeans_anchors
from .config import DataConfig
from .loss import Targets
from .model import ModelConfig
from .normalise import normalise_pose
from .placement import BodySizePrior
from .targets import match_anchors

__all__ = ["NORMALIZATION", "normalization_for", "frames", "part_frames", "select_people", "SampleEncoder", "Pose3DStream", "collate", "fit_anchors_and_prior"]

NORMALIZATION = Normalization(mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), color="bgr")


def normalization_for(model: ModelConfig) -> Normalization:
    """The input normalisation of a network: ImageNet statistics in RGB where its backbone was
    pretrained on ImageNet (what those weights expect), :data:`NORMALIZATION` otherwise."""
    return Normalization() if model.pretrained else NORMALIZATION
Frame = tuple[np.ndarray, FrameAnnotation]


def frames(data: DataConfig, split: str = "train", seed: int = 0) -> Iterator[Frame]:
    """BGR images and ground truth of the training (``split="train"``) or validation split.

    One part (``data.preset`` or ``data.jta_root``) streams as :func:`part_frames` gives it; a
    mixture (``data.mix``) is endless, each part drawn by its weight
    (:func:`crowd_perception.formats.mixture.interleave`).
    """
    specs = data.sources()
    stream = functools.partial(part_frames, data=data, split=split, seed=seed)
    if len(specs) == 1:
        return iter(stream(specs[0]))
    return interleave(specs, stream)


def part_frames(spec: SourceSpec, data: DataConfig, split: str, seed: int) -> Iterator[Frame]:
    """The frames of one part: a synthetic preset endlessly (one seed after another; validation
    uses ``data.val_preset``), or a JTA root's ``annotations/<split>`` once, through the formats
    reader, sequence by sequence in a seeded random order (``Pose3DStream``'s buffer shuffles the frames).
    """
    if spec.source == "jta":
        dataset = read_part(spec, split)
        groups = list(dataset.groups().values())
        random.Random(seed).shuffle(groups)  # whole sequences in random order: each is parsed once
        for index in itertools.chain.from_iterable(groups):
            yield dataset.load(index)
        return
    from ...synth import generate

    preset = spec.where if split == "train" else data.val_preset
    for s in itertools.count(seed):
        for sample in generate(preset, seed=s):
            yield sample.image, sample.annotation


def select_people(annotation: FrameAnnotation, transform: ImageTransform, skeleton: str, data: DataConfig) -> PersonAnnotations:
    """The ground-truth people kept for training, in ``skeleton`` order and network-input pixels."""
    persons = annotation.persons
    boxes = transform.boxes_to_input(persons.boxes)
    visible = np.where(np.isnan(persons.visible_fractions), 1.0, persons.visible_fractions)
    keep = (
        np.all(np.isfinite(boxes), axis=1)
        & (boxes[:, 3] - boxes[:, 1] >= data.min_height_px)
        & (visible >= data.min_visible_fraction)
    )
    persons = persons.select(keep)
    return PersonAnnotations(
        skeleton,
        boxes[keep],
        keypoints=transform.points_to_input(convert_keypoints(persons.keypoints, persons.skeleton, skeleton)),
        joints_3d=convert_keypoints(persons.joints_3d, persons.skeleton, skeleton),
        distances=persons.distances,
        visible_fractions=persons.visible_fractions,
    )


class SampleEncoder:
    """One frame -> network input and per-image targets (numpy)."""

    def __init__(self, model: ModelConfig, data: DataConfig) -> None:
        self.model = model
        self.data = data
        self.anchors = model.anchor_boxes()
        self.skeleton = get_skeleton(model.skeleton)

    def encode(self, image: np.ndarray, annotation: FrameAnnotation, flip: bool = False) -> dict[str, np.ndarray]:
        size = (self.model.input_height, self.model.input_width)
        fitted, transform = letterbox(image, size)
        people = select_people(annotation, transform, self.skeleton.name, self.data)
        boxes, keypoints, joints = people.boxes, people.keypoints, people.joints_3d
        if flip:
            w = self.model.input_width
            fitted = fitted[:, ::-1]
            boxes = np.stack([w - boxes[:, 2], boxes[:, 1], w - boxes[:, 0], boxes[:, 3]], -1)
            perm = self.skeleton.flip_permutation()
            keypoints = keypoints[:, perm] * [-1, 1] + [w, 0]
            joints = joints[:, perm] * [-1, 1, 1]
        poses, _ = normalise_pose(joints, self.skeleton.name)
        gt_index, _, pono = match_anchors(self.anchors, boxes)
        return {
            "image": normalize(np.ascontiguousarray(fitted), normalization_for(self.model))[0],
            "gt_index": gt_index,
            "pono": pono,
            "boxes": boxes.astype(np.float32),
            "keypoints": keypoints.astype(np.float32),
            "keypoints_valid": np.all(np.isfinite(keypoints), axis=-1),
            "poses": poses.astype(np.float32),
            "poses_valid": np.all(np.isfinite(poses), axis=(1, 2)),
        }


def collate(samples: list[dict[str, np.ndarray]]) -> tuple[torch.Tensor, Targets]:
    """Stack images; pad the people of each image to the batch's largest count."""
    g = max(1, max(len(s["boxes"]) for s in samples))

    def pad(key: str, fill: float | bool = 0) -> torch.Tensor:
        first = samples[0][key]
        out = np.full((len(samples), g, *first.shape[1:]), fill, dtype=first.dtype)
        for i, s in enumerate(samples):
            out[i, : len(s[key])] = s[key]
        return torch.from_numpy(out)

    images = torch.from_numpy(np.stack([s["image"] for s in samples]))
    targets = Targets(
        gt_index=torch.from_numpy(np.stack([s["gt_index"] for s in samples])),
        pono=torch.from_numpy(np.stack([s["pono"] for s in samples])),
        boxes=pad("boxes"),
        keypoints=pad("keypoints"),
        keypoints_valid=pad("keypoints_valid", False),
        poses=pad("poses"),
        poses_valid=pad("poses_valid", False),
    )
    return images, targets


class Pose3DStream(IterableDataset):
    """Endless encoded training samples with a shuffle buffer (synthetic frames come in sequences)."""

    def __init__(self, model: ModelConfig, data: DataConfig, seed: int = 0, buffer: int = 64) -> None:
        self.model, self.data, self.seed, self.buffer = model, data, seed, buffer

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        seed = worker_seed(self.seed)
        rng = random.Random(seed)
        encoder = SampleEncoder(self.model, self.data)
        pool: list[Frame] = []
        for frame in frames(self.data, "train", seed=seed * 1000):
            pool.append(frame)
            if len(pool) < self.buffer:
                continue
            image, annotation = pool.pop(rng.randrange(len(pool)))
            yield encoder.encode(image, annotation, flip=self.data.hflip and rng.random() < 0.5)


def fit_anchors_and_prior(model: ModelConfig, data: DataConfig, seed: int = 0) -> tuple[np.ndarray, BodySizePrior]:
    """k-means anchors (input pixels) and the body-size prior from the first ``anchor_samples`` training frames."""
    boxes, joints = [], []
    size = (model.input_height, model.input_width)
    for image, annotation in itertools.islice(frames(data, "train", seed=seed), data.anchor_samples):
        _, transform = letterbox(image, size)
        people = select_people(annotation, transform, model.skeleton, data)
        boxes.append(people.boxes)
        joints.append(people.joints_3d)
    wh = np.concatenate(boxes)[:, 2:] - np.concatenate(boxes)[:, :2]
    return kmeans_anchors(wh, data.num_anchors, seed=seed), BodySizePrior.from_poses(np.concatenate(joints))
