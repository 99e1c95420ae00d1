import numpy as np
import pytest

from crowd_perception.models.pose2d.crops import heatmap_transforms, transform_points
from crowd_perception.models.pose2d.curriculum import Curriculum
from crowd_perception.models.pose2d.data import AugmentConfig, BankConfig, CropBank, PoseTrainingSet, build_crop_bank
from crowd_perception.models.pose2d.decode import decode_heatmaps


def _bank(frames):
    return build_crop_bank(frames, BankConfig(frame_stride=1), "coco17", (64, 64), 100, np.random.default_rng(0))


def test_bank_keeps_source_keypoints_and_drops_target_domain_keypoints(toy_frames, tmp_path):
    bank = _bank(toy_frames)
    assert len(bank) == 9 and bank.images.shape == (9, 86, 86, 3)
    src, tgt = bank.domain == 0, bank.domain == 1
    assert src.sum() == 6 and bank.has_keypoints[src].all() and not bank.has_keypoints[tgt].any()
    assert np.isfinite(bank.keypoints[src]).all() and np.isnan(bank.keypoints[tgt]).all()
    assert np.isnan(bank.others[tgt]).all() and bank.has_mask.all()
    # Each crop's mask covers its own person: the crop centre is inside the person's rectangle.
    assert bank.masks[:, 43, 43].all()
    # Neighbours are in the crop's coordinates (they lie left/right of the target).
    assert np.isfinite(bank.others[src][:, 0]).all()
    path = bank.save(tmp_path / "bank.npz")
    again = CropBank.load(path)
    np.testing.assert_array_equal(again.images, bank.images)
    np.testing.assert_array_equal(again.keypoints, bank.keypoints)
    assert len(again.select(again.domain == 0)) == 6


def test_no_usable_person_is_a_clear_error(toy_frames):
    with pytest.raises(ValueError, match="no usable person"):
        build_crop_bank(toy_frames, BankConfig(min_height=1000), "coco17", (64, 64), 10, np.random.default_rng(0))


def test_training_sample_targets_match_keypoints(toy_frames):
    bank = _bank(toy_frames)
    aug = AugmentConfig(curriculum=Curriculum(enabled=False))
    dataset = PoseTrainingSet(bank, (64, 64), aug, total_samples=10, relation_pool=2, seed=0)
    sample = dataset[0]
    assert sample["images"].shape == (3, 64, 64) and sample["target_heatmaps"].shape == (17, 16, 16)
    assert sample["relation"].shape == (64, 64) and sample["limbs"].shape[0] == 18
    assert sample["has_keypoints"] == 1.0 and sample["mask"].max() > 0.5
    np.testing.assert_array_equal(sample["multi_heatmaps"] >= sample["target_heatmaps"] - 1e-6, True)
    # Decoding the rendered target gives back labelled joints that are inside the heatmap.
    _, peaks = decode_heatmaps(sample["target_heatmaps"], "dark", sigma=aug.sigma)
    assert (peaks[sample["target_weights"] > 0] > 0.3).all()
    target_domain = dataset[int(np.nonzero(bank.domain == 1)[0][0])]
    assert target_domain["has_keypoints"] == 0.0 and target_domain["target_heatmaps"].max() == 0.0


def test_flip_swaps_left_and_right(toy_frames):
    bank = _bank(toy_frames[:1])
    aug = AugmentConfig(scale=0, shift=0, rotation_prob=0, curriculum=Curriculum(enabled=False))
    plain = PoseTrainingSet(bank, (64, 64), AugmentConfig(**{**aug.__dict__, "flip_prob": 0.0}), 10, 2)
    flipped = PoseTrainingSet(bank, (64, 64), AugmentConfig(**{**aug.__dict__, "flip_prob": 1.0}), 10, 2)
    a, _ = decode_heatmaps(plain[0]["target_heatmaps"], "dark", 2.0)
    b, _ = decode_heatmaps(flipped[0]["target_heatmaps"], "dark", 2.0)
    # Joint 1 (left eye) of the flipped crop is the mirrored joint 2 (right eye) of the plain crop.
    assert ((a[2] > 1) & (a[2] < 14)).all()  # away from the border, where DARK is exact
    assert b[1][0] == pytest.approx(15 - a[2][0], abs=0.05) and b[1][1] == pytest.approx(a[2][1], abs=0.05)


def test_curriculum_occludes_parts_and_marks_them(toy_frames):
    bank = _bank(toy_frames[:1])
    aug = AugmentConfig(curriculum=Curriculum(max_fraction=0.7, ramp=1e-6))
    dataset = PoseTrainingSet(bank, (64, 64), aug, total_samples=1, relation_pool=2, seed=3)
    dataset.drawn = 1  # curriculum at its maximum level
    occluded = [dataset[i]["occlusion"].sum() for i in range(3) for _ in range(4)]
    assert max(occluded) > 1  # beyond the one joint labelled occluded in the toy frames


def test_heatmap_transform_consistency():
    pts = np.array([[[1.5, 2.5]]])
    np.testing.assert_allclose(transform_points(pts, heatmap_transforms(4.0)[None]), [[[0.0, 0.25]]])


def test_bank_from_real_coco_style_files(fixtures_dir):
    """COCO / CrowdPose / OCHuman JSON -> crops with keypoints and masks from the real segmentations."""
    from crowd_perception.models.pose2d.data import coco_frames

    for relative, skeleton in (("coco_keypoints/coco/test_coco.json", "coco17"), ("ochuman/ochuman/test_ochuman.json", "coco17"),
                               ("crowdpose/crowdpose/test_crowdpose.json", "crowdpose14")):
        bank = build_crop_bank(coco_frames(fixtures_dir / relative), BankConfig(frame_stride=1), skeleton, (64, 64), 50,
                               np.random.default_rng(0))
        assert len(bank) > 0 and bank.has_keypoints.all() and (bank.domain == 0).all()
        assert np.isfinite(bank.keypoints).any()
