"""Small synthetic frames in the synth ``Sample`` shape (people walking right, full ground truth)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations
from crowd_perception.core.camera import PinholeCamera
from crowd_perception.core.skeletons import BODY22
from crowd_perception.core.types import JointState


@dataclass
class FakeSample:
    """The synth ``Sample`` contract: a BGR image and its ground truth."""

    image: np.ndarray
    annotation: FrameAnnotation


def make_samples(n: int = 3, persons: int = 2, width: int = 64, height: int = 48, seed: int = 0) -> list[FakeSample]:
    """``n`` frames of people walking right, with ids, 2D keypoints, joint states and 3D joints."""
    rng = np.random.default_rng(seed)
    pixels = np.random.default_rng(seed + 1)
    camera = PinholeCamera.from_fov(width, height, 60.0)
    k = BODY22.num_joints
    samples = []
    for f in range(n):
        joints = np.zeros((persons, k, 3), dtype=np.float32)
        joints[..., 0] = rng.uniform(-0.3, 0.3, (persons, k)) + np.arange(persons)[:, None] * 1.0 + 0.1 * f - 0.5
        joints[..., 1] = rng.uniform(-0.8, 0.8, (persons, k))
        joints[..., 2] = 6.0 + np.arange(persons)[:, None]
        keypoints = camera.project(joints).astype(np.float32)
        boxes = np.concatenate([keypoints.min(1), keypoints.max(1)], axis=1)
        states = rng.choice([JointState.VISIBLE, JointState.OCCLUDED_BY_PERSON], size=(persons, k))
        annotation = FrameAnnotation(
            image_id=f"seq/{f:06d}",
            width=width,
            height=height,
            persons=PersonAnnotations(
                "body22",
                boxes,
                visible_boxes=boxes * 0.9,
                ids=np.arange(persons),
                keypoints=keypoints,
                keypoint_states=states,
                joints_3d=joints,
                distances=np.linalg.norm(joints[:, BODY22.root], axis=-1),
                visible_fractions=rng.uniform(0.2, 1.0, persons),
            ),
            camera=camera,
            stamp_ns=1_000_000_000 + f * 100_000_000,
            sequence="seq",
            frame_index=f,
            domain="a",
        )
        samples.append(FakeSample(_scene(pixels, width, height), annotation))
    return samples


def _scene(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A BGR frame with structure (smooth random blobs, not pixel noise, which the image-health check flags)."""
    coarse = rng.integers(0, 256, (max(height // 8, 2), max(width // 8, 2), 3), dtype=np.uint8)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)


def corrupt_chunk_bag(path, n: int = 40):
    """A synthetic mcap bag of ``n`` 320x240 frames (several 1 MiB chunks) with one byte flipped in a
    chunk's payload halfway through the file (its CRC fails); returns ``path``."""
    from crowd_perception.ros.bag import write_synthetic_bag

    write_synthetic_bag(make_samples(n, width=320, height=240), path)
    mcap = next(path.glob("*.mcap"))
    data = bytearray(mcap.read_bytes())
    data[len(data) // 2] ^= 0xFF
    mcap.write_bytes(bytes(data))
    return path
