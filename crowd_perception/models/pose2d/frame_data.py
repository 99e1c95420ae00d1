"""Training data of the frame-mode network: whole frames with the people's RoIs and per-RoI targets.

Frame mode runs the encoder on the whole frame and each person's head on RoI-aligned features
(:mod:`.roi`), so it trains on frames, not crops:

1. :func:`build_frame_bank` letterboxes every ``frame_stride``-th frame of an ``(image,
   FrameAnnotation)`` stream into the network's frame size and keeps each person's box, keypoints,
   joint states and instance label (padded arrays; ``.npz``, loaded with ``allow_pickle=False``).
   The synthetic target domain (``b``) keeps boxes and masks only, as in the crop bank.
2. :class:`FrameTrainingSet` warps a bank frame with a random scale / shift / rotation / flip,
   applies the mask-and-predict curriculum to the people it picks, and returns the frame, one
   RoI per picked person (a jittered box, as a detector would give it) and the RoIs' targets,
   built by the same :func:`.data.crop_targets` as crop mode.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from ...core.annotations import FrameAnnotation
from ...core.types import JointState
from .crops import PAD_VALUE, boxes_to_center_size, crop_transforms, letterbox_frame, transform_points, warp_crops
from .curriculum import occlude_parts
from .data import ASPECT_PADDING, AugmentConfig, BankConfig, BankSampler, crop_targets, person_labels, usable_people
from .roi import roi_matrices

__all__ = ["FrameBank", "build_frame_bank", "FrameTrainingSet", "collate_frames"]

_FRAME_ARRAYS = ("images", "instances", "boxes", "keypoints", "states", "usable", "has_keypoints", "has_mask", "domain")


@dataclass
class FrameBank:
    """``F`` letterboxed frames and their people (``P`` slots per frame, NaN / False padded)."""

    skeleton: str
    images: np.ndarray  # (F, H, W, 3) uint8 BGR
    instances: np.ndarray  # (F, H, W) int16: person slot + 1, 0 background
    boxes: np.ndarray  # (F, P, 4) float32 xyxy
    keypoints: np.ndarray  # (F, P, K, 2) float32, NaN = unlabelled
    states: np.ndarray  # (F, P, K) uint8 JointState
    usable: np.ndarray  # (F, P) bool: may be picked as a RoI
    has_keypoints: np.ndarray  # (F,) bool
    has_mask: np.ndarray  # (F,) bool
    domain: np.ndarray  # (F,) uint8: 0 source, 1 target

    def __len__(self) -> int:
        return len(self.images)

    def save(self, path: Path | str) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, skeleton=np.array(self.skeleton), **{k: getattr(self, k) for k in _FRAME_ARRAYS})
        return path

    @classmethod
    def load(cls, path: Path | str) -> FrameBank:
        with np.load(path, allow_pickle=False) as data:
            return cls(str(data["skeleton"]), **{k: data[k] for k in _FRAME_ARRAYS})

    def select(self, index: np.ndarray) -> FrameBank:
        return FrameBank(self.skeleton, **{k: getattr(self, k)[index] for k in _FRAME_ARRAYS})

    @classmethod
    def concatenate(cls, banks: list[FrameBank]) -> FrameBank:
        if not banks or len({b.skeleton for b in banks}) != 1 or len({b.images.shape[1:] for b in banks}) != 1:
            raise ValueError("need at least one bank, all of the same skeleton and frame size")
        p = max(b.boxes.shape[1] for b in banks)
        pad = {"boxes": np.nan, "keypoints": np.nan, "states": 0, "usable": False}
        parts: dict[str, list[np.ndarray]] = {k: [] for k in _FRAME_ARRAYS}
        for bank in banks:
            for key in _FRAME_ARRAYS:
                value = getattr(bank, key)
                if key in pad:
                    widths = [(0, 0), (0, p - value.shape[1])] + [(0, 0)] * (value.ndim - 2)
                    value = np.pad(value, widths, constant_values=pad[key])
                parts[key].append(value)
        return cls(banks[0].skeleton, **{k: np.concatenate(v) for k, v in parts.items()})


def build_frame_bank(
    frames: Iterable[tuple[np.ndarray, FrameAnnotation]],
    cfg: BankConfig,
    skeleton: str,
    frame_size: tuple[int, int],
    max_frames: int,
    keypoints_for: Iterable[str] = ("a", ""),
) -> FrameBank:
    """Letterbox up to ``max_frames`` frames (with at least one usable person) into ``frame_size``.

    Frames whose ``domain`` is in ``keypoints_for`` keep keypoints; the others (synthetic target
    domain ``b``) keep boxes and masks only, so training can never see their keypoints.
    """
    keypoints_for = set(keypoints_for)
    rows: list[dict[str, np.ndarray]] = []
    out_h, out_w = frame_size
    for number, (image, frame) in enumerate(frames):
        if len(rows) >= max_frames:
            break
        if number % cfg.frame_stride:
            continue
        persons, supervised = frame.persons, frame.domain in keypoints_for
        kpts, states = person_labels(frame, skeleton)
        usable = usable_people(frame, cfg, kpts, supervised)
        if not supervised:
            kpts[:], states[:] = np.nan, JointState.UNKNOWN
        if not usable.any():
            continue
        letterboxed, m = letterbox_frame(image, frame_size)
        instances: np.ndarray = np.zeros((out_h, out_w), np.int16)
        if frame.instance_map is not None:
            instances = cv2.warpAffine(frame.instance_map.astype(np.int16), m, (out_w, out_h), flags=cv2.INTER_NEAREST)
        rows.append({
            "images": letterboxed,
            "instances": instances,
            "boxes": (persons.boxes * np.tile(np.diag(m), 2) + np.tile(m[:, 2], 2)).astype(np.float32),
            "keypoints": transform_points(kpts, np.broadcast_to(m, (len(kpts), 2, 3))).astype(np.float32),
            "states": states,
            "usable": usable,
            "has_keypoints": np.array(supervised),
            "has_mask": np.array(frame.instance_map is not None),
            "domain": np.array(1 if frame.domain == "b" else 0, np.uint8),
        })
    if not rows:
        raise ValueError("no frame with a usable person (check min_height / min_visible / min_joints)")
    banks = [FrameBank(skeleton, **{k: (r[k][None]) for k in _FRAME_ARRAYS}) for r in rows]
    return FrameBank.concatenate(banks)


class FrameTrainingSet(BankSampler):
    """Map-style dataset over a :class:`FrameBank`: ``{"images" (3, H, W), "rois" (R, 2, 3), per-RoI targets (R, ...)}``.

    The curriculum's progress counts frames drawn against ``total_frames``.
    """

    def __init__(
        self,
        bank: FrameBank,
        input_size: tuple[int, int],
        augment: AugmentConfig,
        rois_per_frame: int,
        max_others: int,
        total_frames: int,
        relation_pool: int,
        seed: int = 0,
    ) -> None:
        super().__init__(bank, input_size, augment, total_frames, relation_pool, seed)
        self.rois_per_frame, self.max_others = rois_per_frame, max_others
        self.frame_size = bank.images.shape[1:3]

    def _frame_transform(self, flip: bool, anchor: np.ndarray | None = None) -> np.ndarray:
        """Random scale / shift / rotation (/ flip) of the bank frame onto the network frame.

        With ``augment.zoom > 1`` the frame is also magnified by a log-uniform factor in ``[1, zoom]``
        and, when magnified, centred near ``anchor`` (a person's box centre) so that person stays in view.
        """
        a, (h, w) = self.augment, self.frame_size
        magnify = float(np.exp(self.rng.uniform(0.0, np.log(a.zoom)))) if a.zoom > 1 else 1.0
        size = np.array([w, h], np.float64) / self.rng.uniform(1 - a.scale, 1 + a.scale) / magnify
        center = np.array([(w - 1) / 2, (h - 1) / 2])
        if anchor is not None and magnify > 1:
            # slide the view from the frame centre towards the person, as far as needed to keep them inside
            center = center + (np.asarray(anchor, np.float64) - center) * min(1.0, (magnify - 1) / 0.5)
        center = center + self.rng.uniform(-a.shift, a.shift, 2) * size
        # a whole frame turns half as far as one person's crop: a tilted camera is rarer than a leaning person
        rot = self.rng.uniform(-a.rotation, a.rotation) / 2 if self.rng.random() < a.rotation_prob else 0.0
        return crop_transforms(center[None], size[None], (h, w), [rot], [flip])[0]

    def _roi_transforms(self, boxes: np.ndarray) -> np.ndarray:
        """Image->crop transforms of jittered ``boxes (R, 4)`` (detector-like box noise)."""
        a, (h, w) = self.augment, self.input_size
        centers, sizes = boxes_to_center_size(boxes, w / h, ASPECT_PADDING)
        sizes = sizes * self.rng.uniform(1 - a.scale / 2, 1 + a.scale / 2, (len(boxes), 1))
        centers = centers + self.rng.uniform(-a.shift, a.shift, (len(boxes), 2)) * sizes
        return crop_transforms(centers, sizes, (h, w))

    def _frame(self, index: int) -> int:
        """``index``, or the next frame with a usable person."""
        for offset in range(len(self.bank)):
            frame = (index + offset) % len(self.bank)
            if self.bank.usable[frame].any():
                return frame
        raise ValueError("frame bank has no usable person")

    def _pick(self, frame: int, boxes: np.ndarray) -> np.ndarray:
        """``R`` person slots of ``frame`` among the usable ones whose (transformed) box centre is in view."""
        h, w = self.frame_size
        centers = (boxes[:, :2] + boxes[:, 2:]) / 2
        in_view = (centers[:, 0] >= 0) & (centers[:, 0] <= w - 1) & (centers[:, 1] >= 0) & (centers[:, 1] <= h - 1)
        usable = np.nonzero(self.bank.usable[frame] & in_view)[0]
        if not len(usable):
            usable = np.nonzero(self.bank.usable[frame])[0]
        replace = len(usable) < self.rois_per_frame
        return self.rng.choice(usable, self.rois_per_frame, replace=replace)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        self.drawn += 1
        bank, a = self.bank, self.augment
        frame = self._frame(index)
        flip = bool(self.rng.random() < a.flip_prob)
        anchor = None
        if a.zoom > 1:
            slot = self.rng.choice(np.nonzero(bank.usable[frame])[0])
            anchor = (bank.boxes[frame][slot, :2] + bank.boxes[frame][slot, 2:]) / 2
        m = self._frame_transform(flip, anchor)
        h, w = self.frame_size
        image = cv2.warpAffine(bank.images[frame], m, (w, h), borderMode=cv2.BORDER_CONSTANT, borderValue=(PAD_VALUE,) * 3)
        instances = cv2.warpAffine(bank.instances[frame], m, (w, h), flags=cv2.INTER_NEAREST)
        perm = self.skeleton.flip_permutation() if flip else np.arange(self.skeleton.num_joints)
        people = len(bank.boxes[frame])
        keypoints = transform_points(bank.keypoints[frame], np.broadcast_to(m, (people, 2, 3)))[:, perm]
        states = bank.states[frame][:, perm].copy()
        corners = bank.boxes[frame][:, [0, 1, 2, 1, 0, 3, 2, 3]].reshape(people, 4, 2)
        corners = transform_points(corners, np.broadcast_to(m, (people, 2, 3)))
        boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)
        picked = self._pick(frame, boxes)
        masks = [(instances == slot + 1).astype(np.uint8) for slot in picked]
        if bank.has_keypoints[frame]:
            for row, slot in enumerate(picked):
                fraction = a.curriculum.sample_fraction(self.progress, self.rng)
                image, states[slot], masks[row], _ = occlude_parts(
                    image, keypoints[slot], states[slot], bank.skeleton, fraction, self.rng, masks[row]
                )
        to_crop = self._roi_transforms(boxes[picked])
        targets = [self._person_targets(to_crop[row], keypoints, states, boxes, slot, masks[row]) for row, slot in enumerate(picked)]
        stacked = {key: np.stack([t[key] for t in targets]) for key in targets[0]}
        r = self.rois_per_frame
        return {
            "images": np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32),
            "rois": roi_matrices(to_crop, np.eye(2, 3), 4),
            **stacked,
            "domain": np.full(r, bank.domain[frame], np.float32),
            "has_keypoints": np.full(r, bank.has_keypoints[frame], np.float32),
            "has_mask": np.full(r, bank.has_mask[frame], np.float32),
        }

    def _person_targets(
        self, to_crop: np.ndarray, keypoints: np.ndarray, states: np.ndarray, boxes: np.ndarray, slot: int, mask: np.ndarray
    ) -> dict[str, np.ndarray]:
        centers = (boxes[:, :2] + boxes[:, 2:]) / 2
        distance = np.linalg.norm(np.nan_to_num(centers - centers[slot], nan=1e9), axis=1)
        others = [j for j in np.argsort(distance) if j != slot and np.isfinite(boxes[j]).all()][: self.max_others]
        padded = np.full((self.max_others, *keypoints.shape[1:]), np.nan)
        padded[: len(others)] = keypoints[others]
        to_crop_all = np.broadcast_to(to_crop, (1, 2, 3))
        crop_kpts = transform_points(keypoints[slot][None], to_crop_all)[0]
        crop_others = transform_points(padded.reshape(1, -1, 2), to_crop_all)[0].reshape(padded.shape)
        crop_mask = warp_crops(mask, to_crop[None], self.input_size, interpolation=cv2.INTER_NEAREST)[0]
        return crop_targets(
            crop_kpts, states[slot], crop_others, crop_mask, self.input_size, self.augment, self.skeleton, self.relation_pool
        )


def collate_frames(samples: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """Frames and RoIs stacked to ``(B, ...)``; per-RoI targets concatenated to ``(B * R, ...)`` (the network's order)."""
    out = {}
    for key in samples[0]:
        join = np.stack if key in ("images", "rois") else np.concatenate
        out[key] = torch.from_numpy(join([s[key] for s in samples]))
    return out
