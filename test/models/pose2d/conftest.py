"""Tiny hand-made frames for the pose2d tests (no synthetic engine needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations
from crowd_perception.core.types import JointState


def make_frame(seed: int = 0, people: int = 3, domain: str = "a") -> tuple[np.ndarray, FrameAnnotation]:
    """A 240x320 noise image with ``people`` box-shaped persons, COCO-17 keypoints inside their boxes."""
    rng = np.random.default_rng(seed)
    h, w = 240, 320
    image = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    instance = np.zeros((h, w), np.int32)
    boxes, kpts = [], []
    for i in range(people):
        x1, y1 = 20 + 90 * i + rng.uniform(0, 10), 30 + rng.uniform(0, 20)
        bw, bh = 60.0, 150.0
        boxes.append([x1, y1, x1 + bw, y1 + bh])
        kpts.append(np.stack([x1 + rng.uniform(5, bw - 5, 17), y1 + np.linspace(8, bh - 8, 17)], axis=1))
        instance[int(y1) : int(y1 + bh), int(x1) : int(x1 + bw)] = i + 1
        image[int(y1) : int(y1 + bh), int(x1) : int(x1 + bw)] = (40 * i, 200, 255 - 40 * i)
    states = np.full((people, 17), JointState.VISIBLE, np.uint8)
    states[:, 3] = JointState.OCCLUDED_BY_PERSON
    persons = PersonAnnotations(
        "coco17", np.array(boxes), keypoints=np.array(kpts), keypoint_states=states, visible_fractions=np.full(people, 0.9)
    )
    return image, FrameAnnotation(f"toy{seed}", w, h, persons, instance_map=instance, domain=domain)


def _tiny_model(folder: Path, mode: str) -> tuple[Path, Path]:
    import torch

    from crowd_perception.models.pose2d.config import PRESETS
    from crowd_perception.models.pose2d.export import export_pose
    from crowd_perception.models.pose2d.model import OccludedPoseNet
    from crowd_perception.training import apply_overrides, save_weights

    torch.manual_seed(0)
    config = apply_overrides(PRESETS["smoke"](), [f"model.input_mode={mode}"])
    model = OccludedPoseNet(config.model).eval()
    weights = save_weights(folder / "model.safetensors", model, config)
    onnx_path = folder / "pose2d.onnx"
    export_pose(weights, onnx_path, max_batch=32)
    return weights, onnx_path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> tuple[Path, Path]:
    """A randomly initialised tiny frame-mode network (the default) saved like a training run and exported."""
    return _tiny_model(tmp_path_factory.mktemp("pose2d"), "frame")


@pytest.fixture(scope="session", params=["frame", "crop"])
def tiny_model_any_mode(request, tmp_path_factory) -> tuple[Path, Path]:
    """The tiny network in each input mode: whole frame + RoIs, and person crops."""
    return _tiny_model(tmp_path_factory.mktemp(f"pose2d_{request.param}"), request.param)


@pytest.fixture
def toy_frames() -> list[tuple[np.ndarray, FrameAnnotation]]:
    return [make_frame(0), make_frame(1), make_frame(2, domain="b")]
