"""Training data: person crops from annotated frames, banked once, then augmented with targets.

Two stages, so that the (slow) synthetic renderer or image decoding runs once and equal-budget
ablations see identical data:

1. :func:`build_crop_bank` cuts every usable person of a stream of ``(image, FrameAnnotation)``
   into a :class:`CropBank`: a slightly larger crop than the network input (room for scale and
   rotation augmentation), the person's visible-pixel mask, the target's keypoints and states,
   and the keypoints of the other people in the crop (for the multi-joint heatmap ``H_m``).
   Sources: the synthetic engine (domain ``a`` with keypoints, domain ``b`` with boxes + masks
   only) and COCO-style files (COCO, CrowdPose, OCHuman) through :mod:`crowd_perception.formats`.
2. :class:`PoseTrainingSet` re-warps a bank crop with a random scale / rotation / flip, applies
   the mask-and-predict curriculum, and builds every target of :mod:`.targets`.

Banks are saved as ``.npz`` (numpy arrays only, loaded with ``allow_pickle=False``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ...core.annotations import FrameAnnotation
from ...core.skeletons import Skeleton, convert_joint_states, convert_keypoints, get_skeleton
from ...core.types import JointState
from .crops import (
    boxes_to_center_size,
    crop_transforms,
    heatmap_transforms,
    transform_points,
    warp_crops,
)
from .curriculum import Curriculum, occlude_parts
from .targets import gaussian_heatmaps, joint_weights, limb_maps, mask_target, occlusion_labels, relation_target

__all__ = [
    "BankConfig",
    "CropBank",
    "AugmentConfig",
    "build_crop_bank",
    "synthetic_frames",
    "coco_frames",
    "person_labels",
    "usable_people",
    "BankSampler",
    "PoseTrainingSet",
    "crop_targets",
]

ASPECT_PADDING = 1.25  # person box -> crop (the runner uses the same)


@dataclass
class BankConfig:
    """What goes into a bank: crop geometry and which people are usable."""

    margin: float = 1.35  # bank crop = network crop grown by this factor (augmentation room)
    min_height: float = 24.0  # px, amodal box height
    min_visible: float = 0.15  # visible fraction (when known)
    min_joints: int = 4  # labelled joints needed for a keypoint-supervised crop
    max_others: int = 8  # other people's keypoints kept per crop (nearest first)
    max_per_frame: int = 12  # crops taken from one frame (diversity: video frames are correlated)
    frame_stride: int = 3  # use every n-th frame of the stream

    def bank_size(self, input_size: tuple[int, int]) -> tuple[int, int]:
        """Bank crop ``(h, w)`` for a network input of ``input_size``."""
        return round(input_size[0] * self.margin), round(input_size[1] * self.margin)


@dataclass
class CropBank:
    """Arrays of ``N`` person crops (bank coordinates = pixels of the bank crop)."""

    skeleton: str
    images: np.ndarray  # (N, Hb, Wb, 3) uint8 BGR
    masks: np.ndarray  # (N, Hb, Wb) uint8, 1 = target's visible pixels
    keypoints: np.ndarray  # (N, K, 2) float32, NaN = unlabelled
    states: np.ndarray  # (N, K) uint8 JointState
    others: np.ndarray  # (N, P, K, 2) float32 other people's joints, NaN padded
    has_keypoints: np.ndarray  # (N,) bool: keypoint losses on
    has_mask: np.ndarray  # (N,) bool
    domain: np.ndarray  # (N,) uint8: 0 source, 1 target
    visible_fraction: np.ndarray  # (N,) float32, NaN if unknown
    margin: float = 1.35

    def __len__(self) -> int:
        return len(self.images)

    def save(self, path: Path | str) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {k: getattr(self, k) for k in _BANK_ARRAYS}
        np.savez(path, skeleton=np.array(self.skeleton), margin=np.array(self.margin), **arrays)
        return path

    @classmethod
    def load(cls, path: Path | str) -> CropBank:
        with np.load(path, allow_pickle=False) as data:
            return cls(str(data["skeleton"]), **{k: data[k] for k in _BANK_ARRAYS}, margin=float(data["margin"]))

    def select(self, index: np.ndarray) -> CropBank:
        """Crops picked by an integer or boolean index."""
        return CropBank(self.skeleton, **{k: getattr(self, k)[index] for k in _BANK_ARRAYS}, margin=self.margin)

    @classmethod
    def concatenate(cls, banks: list[CropBank]) -> CropBank:
        if not banks or len({b.skeleton for b in banks}) != 1:
            raise ValueError("need at least one bank, all of the same skeleton")
        p = max(b.others.shape[1] for b in banks)
        parts = {k: [getattr(b, k) for b in banks] for k in _BANK_ARRAYS}
        parts["others"] = [np.pad(o, ((0, 0), (0, p - o.shape[1]), (0, 0), (0, 0)), constant_values=np.nan) for o in parts["others"]]
        return cls(banks[0].skeleton, **{k: np.concatenate(v) for k, v in parts.items()}, margin=banks[0].margin)


_BANK_ARRAYS = ("images", "masks", "keypoints", "states", "others", "has_keypoints", "has_mask", "domain", "visible_fraction")


def person_labels(frame: FrameAnnotation, skeleton: str) -> tuple[np.ndarray, np.ndarray]:
    """The frame's ``(keypoints (N, K, 2), states (N, K))`` in ``skeleton``'s order; joints outside the image are NaN."""
    persons = frame.persons
    keypoints = convert_keypoints(persons.keypoints, persons.skeleton, skeleton)
    states = convert_joint_states(persons.keypoint_states, persons.skeleton, skeleton)
    keypoints[states == JointState.OUTSIDE_IMAGE] = np.nan
    return keypoints, states


def usable_people(frame: FrameAnnotation, cfg: BankConfig, keypoints: np.ndarray, need_keypoints: bool) -> np.ndarray:
    """``(N,)`` bool: people tall and visible enough (and, for keypoint supervision, labelled enough) to train on."""
    p = frame.persons
    height = p.boxes[:, 3] - p.boxes[:, 1]
    ok = np.isfinite(p.boxes).all(axis=1) & (height >= cfg.min_height)
    vis = np.nan_to_num(p.visible_fractions, nan=1.0)
    ok &= vis >= cfg.min_visible
    if need_keypoints:
        ok &= np.isfinite(keypoints).all(axis=-1).sum(axis=1) >= cfg.min_joints
    return ok


def _others_in_crop(all_crop: np.ndarray, centers: np.ndarray, boxes: np.ndarray, chosen: np.ndarray, limit: int) -> np.ndarray:
    """``(C, limit, K, 2)`` keypoints of the people nearest to each chosen person (NaN padded)."""
    others = np.full((len(chosen), limit, *all_crop.shape[2:]), np.nan, np.float32)
    box_centers = (boxes[:, :2] + boxes[:, 2:]) / 2
    for row, i in enumerate(chosen):
        order = [j for j in np.argsort(np.linalg.norm(centers[row] - box_centers, axis=1)) if j != i][:limit]
        others[row, : len(order)] = all_crop[row, order]
    return others


def _frame_crops(
    image: np.ndarray, frame: FrameAnnotation, kpts: np.ndarray, chosen: np.ndarray, cfg: BankConfig, input_size: tuple[int, int]
) -> dict[str, np.ndarray]:
    """Bank arrays (images, masks, keypoints, others) of the ``chosen`` people of one frame."""
    persons = frame.persons
    hb, wb = cfg.bank_size(input_size)
    centers, sizes = boxes_to_center_size(persons.boxes[chosen], input_size[1] / input_size[0], ASPECT_PADDING * cfg.margin)
    transforms = crop_transforms(centers, sizes, (hb, wb))
    if frame.instance_map is not None:
        labels = warp_crops(frame.instance_map.astype(np.int32), transforms, (hb, wb), interpolation=cv2.INTER_NEAREST)
        masks = (labels == (chosen + 1)[:, None, None]).astype(np.uint8)
    else:
        masks = np.zeros((len(chosen), hb, wb), np.uint8)
    flat = np.broadcast_to(kpts, (len(chosen), *kpts.shape)).reshape(len(chosen), -1, 2)
    all_crop = transform_points(flat, transforms).reshape(len(chosen), *kpts.shape)
    return {
        "images": warp_crops(image, transforms, (hb, wb)),
        "masks": masks,
        "keypoints": all_crop[np.arange(len(chosen)), chosen].astype(np.float32),
        "others": _others_in_crop(all_crop, centers, persons.boxes, chosen, cfg.max_others),
    }


def build_crop_bank(
    frames: Iterable[tuple[np.ndarray, FrameAnnotation]],
    cfg: BankConfig,
    skeleton: str,
    input_size: tuple[int, int],
    max_crops: int,
    rng: np.random.Generator,
    keypoints_for: Iterable[str] = ("a", ""),
) -> CropBank:
    """Cut up to ``max_crops`` person crops from ``frames``.

    Frames whose ``domain`` is in ``keypoints_for`` get keypoint supervision (``"a"``: synthetic
    source domain, ``""``: real datasets); the others (synthetic target domain ``"b"``) keep boxes
    and masks only - their keypoints are dropped here so training can never see them.
    """
    keypoints_for = set(keypoints_for)
    chunks: dict[str, list[np.ndarray]] = {key: [] for key in _BANK_ARRAYS}
    total = 0
    for number, (image, frame) in enumerate(frames):
        if number % cfg.frame_stride:
            continue
        supervised = frame.domain in keypoints_for
        persons = frame.persons
        kpts, states = person_labels(frame, skeleton)
        chosen = np.nonzero(usable_people(frame, cfg, kpts, supervised))[0]
        if len(chosen) == 0:
            continue
        chosen = rng.permutation(chosen)[: min(max_crops - total, cfg.max_per_frame)]
        crops = _frame_crops(image, frame, kpts, chosen, cfg, input_size)
        if not supervised:
            crops["keypoints"][:] = np.nan
            crops["others"][:] = np.nan
        for key, value in crops.items():
            chunks[key].append(value)
        chunks["states"].append(states[chosen] if supervised else np.zeros_like(states[chosen]))
        chunks["has_keypoints"].append(np.full(len(chosen), supervised))
        chunks["has_mask"].append(np.full(len(chosen), frame.instance_map is not None))
        chunks["domain"].append(np.full(len(chosen), 1 if frame.domain == "b" else 0, np.uint8))
        chunks["visible_fraction"].append(persons.visible_fractions[chosen].astype(np.float32))
        total += len(chosen)
        if total >= max_crops:
            break
    if total == 0:
        raise ValueError("no usable person in the given frames (check min_height / min_visible / min_joints)")
    return CropBank(skeleton, **{key: np.concatenate(v) for key, v in chunks.items()}, margin=cfg.margin)


def synthetic_frames(preset: str, seed: int = 0) -> Iterator[tuple[np.ndarray, FrameAnnotation]]:
    """``(image, annotation)`` pairs from the synthetic engine's ``preset`` (endless or finite, as the preset says)."""
    from ...synth import generate

    for sample in generate(preset, seed=seed):
        yield sample.image, sample.annotation


def coco_frames(json_path: Path | str, image_root: Path | str | None = None) -> Iterator[tuple[np.ndarray, FrameAnnotation]]:
    """``(image, annotation)`` pairs of a COCO-style keypoint file (COCO, CrowdPose, OCHuman), with masks."""
    from ...formats.coco import read_coco
    from ...formats.dataset import read_image

    for item in read_coco(json_path, image_root, masks=True):
        yield read_image(item.image_path), item.annotation


@dataclass
class AugmentConfig:
    """Random crop geometry and target rendering."""

    scale: float = 0.25  # box size x U(1 - s, 1 + s)
    shift: float = 0.08  # centre shift, fraction of the crop size
    rotation: float = 30.0  # degrees, applied with probability rotation_prob
    rotation_prob: float = 0.4
    flip_prob: float = 0.5
    # frame mode: zoom the frame by up to this factor (log-uniform from 1) around one of its people, so
    # the network also trains on people large enough to resolve their joints (1 = off)
    zoom: float = 1.0
    sigma: float = 2.0  # heatmap Gaussian (heatmap pixels)
    limb_sigma: float = 1.0
    curriculum: Curriculum = field(default_factory=Curriculum)


class BankSampler:
    """What every training set over a bank shares: the bank, the random generator and the curriculum's
    ``progress`` (0 -> 1), advanced from the number of samples drawn and ``total`` (steps x batch
    size; exact with a single loader process)."""

    def __init__(self, bank, input_size: tuple[int, int], augment: AugmentConfig, total: int, relation_pool: int, seed: int) -> None:
        self.bank, self.input_size, self.augment = bank, input_size, augment
        self.total, self.relation_pool = max(total, 1), relation_pool
        self.skeleton = get_skeleton(bank.skeleton)
        self.drawn = 0
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.bank)

    @property
    def progress(self) -> float:
        return min(self.drawn / self.total, 1.0)


class PoseTrainingSet(BankSampler):
    """Map-style dataset over a :class:`CropBank` returning a dict of numpy arrays per crop."""

    def __init__(
        self, bank: CropBank, input_size: tuple[int, int], augment: AugmentConfig, total_samples: int, relation_pool: int, seed: int = 0
    ) -> None:
        super().__init__(bank, input_size, augment, total_samples, relation_pool, seed)

    def _transform(self, flip: bool) -> np.ndarray:
        a, (h, w) = self.augment, self.input_size
        hb, wb = self.bank.images.shape[1:3]
        size = np.array([wb, hb], np.float64) / self.bank.margin * self.rng.uniform(1 - a.scale, 1 + a.scale)
        center = np.array([(wb - 1) / 2, (hb - 1) / 2]) + self.rng.uniform(-a.shift, a.shift, 2) * size
        rot = self.rng.uniform(-a.rotation, a.rotation) if self.rng.random() < a.rotation_prob else 0.0
        return crop_transforms(center[None], size[None], (h, w), [rot], [flip])

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        self.drawn += 1
        bank, a = self.bank, self.augment
        flip = bool(self.rng.random() < a.flip_prob)
        m = self._transform(flip)
        crop = warp_crops(bank.images[index], m, self.input_size)[0]
        mask = warp_crops(bank.masks[index], m, self.input_size, interpolation=cv2.INTER_NEAREST)[0]
        perm = self.skeleton.flip_permutation() if flip else np.arange(self.skeleton.num_joints)
        keypoints = transform_points(bank.keypoints[index][None], m)[0][perm]
        states = bank.states[index][perm]
        others = transform_points(bank.others[index].reshape(1, -1, 2), m)[0].reshape(bank.others.shape[1:])[:, perm]
        if bank.has_keypoints[index]:
            fraction = a.curriculum.sample_fraction(self.progress, self.rng)
            crop, states, mask, _ = occlude_parts(crop, keypoints, states, bank.skeleton, fraction, self.rng, mask)
        return self._targets(crop, mask, keypoints, states, others, index)

    def _targets(self, crop, mask, keypoints, states, others, index) -> dict[str, np.ndarray]:
        bank = self.bank
        return {
            "images": np.ascontiguousarray(crop.transpose(2, 0, 1), dtype=np.float32),
            **crop_targets(keypoints, states, others, mask, self.input_size, self.augment, self.skeleton, self.relation_pool),
            "domain": np.asarray(bank.domain[index], np.float32),
            "has_keypoints": np.asarray(bank.has_keypoints[index], np.float32),
            "has_mask": np.asarray(bank.has_mask[index], np.float32),
        }


def crop_targets(
    keypoints: np.ndarray,
    states: np.ndarray,
    others: np.ndarray,
    mask: np.ndarray,
    input_size: tuple[int, int],
    augment: AugmentConfig,
    skeleton: Skeleton,
    relation_pool: int,
    stride: int = 4,
) -> dict[str, np.ndarray]:
    """Every training target of one person, from crop-pixel ``keypoints (K, 2)``, ``states (K,)``, the
    other people's ``others (P, K, 2)`` and the target's visible-pixel ``mask`` at crop resolution."""
    hm = (input_size[0] // stride, input_size[1] // stride)
    to_heat = heatmap_transforms(stride)[None]
    kp_h = transform_points(keypoints[None], to_heat)[0]
    others_h = transform_points(others.reshape(1, -1, 2), to_heat)[0].reshape(others.shape)
    target = gaussian_heatmaps(kp_h[None], hm, augment.sigma)
    everyone = np.concatenate([kp_h[None], others_h])
    limbs, limb_w = limb_maps(kp_h, skeleton.limbs, hm, augment.limb_sigma)
    occ, occ_w = occlusion_labels(states)
    labelled = np.isfinite(kp_h).all(axis=-1)
    return {
        "target_heatmaps": target,
        "target_weights": joint_weights(kp_h, hm, augment.sigma),
        "multi_heatmaps": gaussian_heatmaps(everyone, hm, augment.sigma),
        "multi_weights": np.ones(len(kp_h), np.float32),
        "relation": relation_target(target, relation_pool).astype(np.float32),
        "limbs": limbs,
        "limb_weights": limb_w,
        "mask": mask_target(mask, hm)[None],
        "occlusion": occ,
        "occlusion_weights": occ_w * labelled,
    }
