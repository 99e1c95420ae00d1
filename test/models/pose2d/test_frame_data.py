"""Frame-mode training data: letterboxed frame bank, RoIs and per-RoI targets that line up with the frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from crowd_perception.models.pose2d.crops import transform_points
from crowd_perception.models.pose2d.curriculum import Curriculum
from crowd_perception.models.pose2d.data import AugmentConfig, BankConfig
from crowd_perception.models.pose2d.frame_data import FrameBank, FrameTrainingSet, build_frame_bank, collate_frames

FRAME = (192, 256)
CROP = (64, 48)


def _bank(toy_frames) -> FrameBank:
    return build_frame_bank(toy_frames, BankConfig(min_height=8.0, frame_stride=1), "coco17", FRAME, 10)


def _still(**kwargs) -> AugmentConfig:
    """No augmentation at all: the sample's frame is the bank frame."""
    values = {"scale": 0.0, "shift": 0.0, "rotation_prob": 0.0, "flip_prob": 0.0, "curriculum": Curriculum(enabled=False)}
    return AugmentConfig(**{**values, **kwargs})


def test_bank_letterboxes_frames_and_hides_target_domain_keypoints(toy_frames, tmp_path):
    bank = _bank(toy_frames)
    assert bank.images.shape == (3, *FRAME, 3) and bank.boxes.shape == (3, 3, 4)
    assert bank.has_keypoints.tolist() == [True, True, False] and bank.domain.tolist() == [0, 0, 1]
    assert np.isnan(bank.keypoints[2]).all() and np.isfinite(bank.keypoints[0]).all()
    # 240x320 -> 192x256: scale 0.8, no padding; the instance labels follow the boxes
    frame = toy_frames[0][1]
    np.testing.assert_allclose(bank.boxes[0], frame.persons.boxes * 0.8 + 0.5 * 0.8 - 0.5, atol=1e-4)
    x1, y1, x2, y2 = bank.boxes[0, 1].round().astype(int)
    assert (bank.instances[0, y1 + 3 : y2 - 3, x1 + 3 : x2 - 3] == 2).all()
    loaded = FrameBank.load(bank.save(tmp_path / "frames.npz"))
    np.testing.assert_array_equal(loaded.instances, bank.instances)


def test_target_peaks_map_back_to_the_keypoints_through_the_rois(toy_frames):
    bank = _bank(toy_frames)
    data = FrameTrainingSet(bank, CROP, _still(sigma=1.5), rois_per_frame=4, max_others=2, total_frames=10, relation_pool=2)
    sample = data[0]
    assert sample["images"].shape == (3, *FRAME) and sample["rois"].shape == (4, 2, 3)
    assert sample["target_heatmaps"].shape == (4, 17, 16, 12) and sample["has_keypoints"].tolist() == [1, 1, 1, 1]
    np.testing.assert_array_equal(sample["images"].transpose(1, 2, 0), bank.images[0])
    checked = 0
    for r in range(4):
        heat = sample["target_heatmaps"][r]
        for k in np.nonzero(sample["target_weights"][r])[0]:
            v, u = np.unravel_index(np.argmax(heat[k]), heat[k].shape)
            if heat[k, v, u] < 0.9:  # peak not on the grid (joint near the crop's edge)
                continue
            frame_xy = transform_points(np.array([[[u, v]]], float), sample["rois"][r][None])[0, 0]
            distance = np.linalg.norm(bank.keypoints[0][:, k] - frame_xy, axis=-1)
            cell = np.linalg.norm(sample["rois"][r][:, 0])  # one heatmap cell in frame pixels
            assert distance.min() <= 0.75 * cell  # the argmax cell holds this joint of one of the people
            checked += 1
        assert sample["mask"][r].max() > 0.5  # the person's own pixels are in its mask
    assert checked > 20


def test_flip_mirrors_the_frame_and_target_domain_has_no_keypoint_supervision(toy_frames):
    bank = _bank(toy_frames)
    data = FrameTrainingSet(bank, CROP, _still(flip_prob=1.0), rois_per_frame=2, max_others=2, total_frames=10, relation_pool=2)
    np.testing.assert_array_equal(data[0]["images"].transpose(1, 2, 0), bank.images[0][:, ::-1])
    target = data[2]
    assert target["has_keypoints"].tolist() == [0, 0] and target["domain"].tolist() == [1, 1]
    assert target["target_weights"].sum() == 0 and target["has_mask"].tolist() == [1, 1]


def test_collate_stacks_frames_and_concatenates_rois(toy_frames):
    data = FrameTrainingSet(_bank(toy_frames), CROP, AugmentConfig(), rois_per_frame=3, max_others=2, total_frames=4, relation_pool=2)
    batch = collate_frames([data[0], data[1]])
    assert batch["images"].shape == (2, 3, *FRAME) and batch["rois"].shape == (2, 3, 2, 3)
    assert batch["target_heatmaps"].shape == (6, 17, 16, 12) and batch["domain"].shape == (6,)
    assert batch["images"].dtype == torch.float32


def test_bank_without_usable_people_is_an_error(toy_frames):
    with pytest.raises(ValueError, match="usable"):
        build_frame_bank(toy_frames, BankConfig(min_height=1000.0), "coco17", FRAME, 5)


def test_frame_bank_from_real_coco_style_files(fixtures_dir):
    """COCO / CrowdPose / OCHuman images of any size -> letterboxed frames with keypoints and instance masks."""
    from crowd_perception.models.pose2d.data import coco_frames

    for relative, skeleton, masks in (("coco_keypoints/coco/test_coco.json", "coco17", True),
                                      ("ochuman/ochuman/test_ochuman.json", "coco17", True),
                                      ("crowdpose/crowdpose/test_crowdpose.json", "crowdpose14", False)):  # CrowdPose has no masks
        bank = build_frame_bank(coco_frames(fixtures_dir / relative), BankConfig(frame_stride=1), skeleton, FRAME, 20)
        assert len(bank) > 0 and bank.images.shape[1:3] == FRAME and bank.has_keypoints.all() and (bank.domain == 0).all()
        assert bank.has_mask.all() == masks
        slot = np.argwhere(bank.usable)[0]
        assert np.isfinite(bank.keypoints[tuple(slot)]).any()
        assert (bank.instances[slot[0]] == slot[1] + 1).any() == masks
        sample = FrameTrainingSet(bank, CROP, AugmentConfig(), rois_per_frame=2, max_others=2, total_frames=4, relation_pool=2)[0]
        assert sample["target_heatmaps"].shape[:2] == (2, len(bank.keypoints[0, 0]))


def test_zoom_magnifies_the_people_keeps_picked_ones_in_view_and_targets_on_their_joints(toy_frames):
    """``augment.zoom``: frames magnified around one of their people (so training sees people large enough to
    resolve their joints); every picked RoI's person is in view and its target peaks still sit on its joints."""
    bank = _bank(toy_frames)
    plain = FrameTrainingSet(bank, CROP, _still(), rois_per_frame=3, max_others=2, total_frames=10, relation_pool=2, seed=3)
    zoomed = FrameTrainingSet(bank, CROP, _still(zoom=3.0), rois_per_frame=3, max_others=2, total_frames=10, relation_pool=2, seed=3)
    scale_plain, scale_zoom, on_person = [], [], []
    for index in range(8):
        for data, scales in ((plain, scale_plain), (zoomed, scale_zoom)):
            sample = data[index % 2]
            rois = sample["rois"]
            scales.append(np.linalg.norm(rois[:, :, 0], axis=1).mean())  # frame px per heatmap cell ~ person size
            centre = transform_points(np.array([[[5.5, 7.5]]] * 3), rois)[:, 0]  # crop centre in the frame
            assert ((centre >= -1) & (centre <= np.array(FRAME[::-1]))).all()
            if data is zoomed:
                image = sample["images"].transpose(1, 2, 0)
                for r in range(3):
                    heat = sample["target_heatmaps"][r]
                    for k in np.nonzero(sample["target_weights"][r])[0]:
                        v, u = np.unravel_index(np.argmax(heat[k]), heat[k].shape)
                        if heat[k, v, u] < 0.9:
                            continue
                        x, y = np.round(transform_points(np.array([[[u, v]]], float), rois[r][None])[0, 0]).astype(int)
                        if 0 <= x < FRAME[1] and 0 <= y < FRAME[0]:
                            blue, green, red = image[y, x]  # the toy people are painted (40 i, 200, 255 - 40 i), the rest is noise
                            on_person.append(abs(green - 200) < 12 and abs(blue + red - 255) < 24)
    assert np.mean(scale_zoom) > 1.3 * np.mean(scale_plain)
    assert len(on_person) > 50 and np.mean(on_person) > 0.9
