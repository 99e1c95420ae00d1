"""Detector data: targets with ignore flags, augmentation keeping boxes on their pixels (scale,
crop, flip), the letterboxed evaluation path, collation, and reading a CrowdHuman-format set."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations
from crowd_perception.models.detector.data import (
    DataConfig,
    DetectionDataset,
    augment,
    count_identities,
    frame_targets,
    open_frames,
)


def test_frame_targets_flags() -> None:
    persons = PersonAnnotations(
        "body22", np.array([[0, 0, 10, 30], [20, 0, 30, 30]]), ids=np.array([4, 5]), visible_fractions=[0.9, 0.05]
    )
    ann = FrameAnnotation("x", 100, 100, persons, ignore_regions=np.array([[50, 50, 90, 90]]))
    t = frame_targets(ann, DataConfig(min_visibility=0.1))
    assert t["ignore"].tolist() == [False, True, True]
    assert t["ids"].tolist() == [4, -1, -1]


@pytest.mark.parametrize("flip", [0.0, 1.0])
def test_augment_keeps_boxes_on_their_pixels(flip: float) -> None:
    image = np.zeros((100, 200, 3), dtype=np.uint8)
    image[20:80, 50:70] = 255
    targets = {"boxes": np.array([[50, 20, 70, 80]], dtype=np.float32), "ignore": np.zeros(1, bool), "ids": np.zeros(1)}
    cfg = DataConfig(hflip=flip, scale_range=(0.8, 1.2), color_jitter=0.0)
    rng = np.random.default_rng(3)
    for _ in range(5):
        canvas, out = augment(image, targets, (64, 128), cfg, rng, canvas_size=(48, 96))
        assert canvas.shape == (48, 96, 3)
        x1, y1, x2, y2 = out["boxes"][0]
        bright = np.argwhere(canvas[..., 0] > 128)
        if len(bright) == 0:
            continue  # the crop missed the person
        assert bright[:, 1].min() >= np.floor(x1) - 1 and bright[:, 1].max() <= np.ceil(x2) + 1
        assert bright[:, 0].min() >= np.floor(y1) - 1 and bright[:, 0].max() <= np.ceil(y2) + 1


def test_dataset_train_and_eval(toy_odgt) -> None:
    cfg = DataConfig(source="crowdhuman", path=str(toy_odgt), crop=(32, 64))
    frames = open_frames(cfg, (64, 96))
    assert len(frames) == 8 and count_identities(frames) == 3
    image, targets = DetectionDataset(frames, (64, 96), cfg, train=True, seed=0)[0]
    assert image.shape == (3, 32, 64) and image.dtype == np.float32
    image, targets = DetectionDataset(frames, (64, 96), cfg, train=False)[0]
    assert image.shape == (3, 64, 96)
    # letterbox of a 96x64 image into 96x64 is the identity: boxes unchanged
    np.testing.assert_allclose(targets["boxes"], frames[0].annotation.persons.boxes, atol=0.5)
    assert (targets["ids"] >= 0).all()


def test_draw_frame_is_consistent(draw) -> None:
    image, ann = draw(np.random.default_rng(1), 0)
    x1, y1, x2, y2 = ann.persons.boxes[0].astype(int)
    assert (image[y1:y2, x1:x2, 1] == 200).all()


def test_real_source_needs_a_path() -> None:
    with pytest.raises(ValueError, match=r"data\.path"):
        open_frames(DataConfig(source="crowdhuman"), (64, 96))
