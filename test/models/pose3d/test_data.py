import numpy as np
import pytest

torch = pytest.importorskip("torch")

from crowd_perception.core.skeletons import BODY22  # noqa: E402
from crowd_perception.models.pose3d.config import DataConfig  # noqa: E402
from crowd_perception.models.pose3d.data import SampleEncoder, collate  # noqa: E402
from crowd_perception.models.pose3d.normalise import bone_length_sum  # noqa: E402

from .conftest import make_frame  # noqa: E402


def test_encoded_targets_are_consistent(tiny_config):
    image, ann = make_frame(3)
    sample = SampleEncoder(tiny_config, DataConfig(min_height_px=4)).encode(image, ann)
    assert sample["image"].shape == (3, 64, 96) and sample["image"].dtype == np.float32
    assert len(sample["boxes"]) == 3 and sample["poses_valid"].all() and sample["keypoints_valid"].all()
    np.testing.assert_allclose(bone_length_sum(sample["poses"]), 1.0, rtol=1e-5)
    # letterbox 128x96 -> 85x64 (scale 2/3), padded 5 px left and right
    np.testing.assert_allclose(sample["boxes"][:, 0], ann.persons.boxes[:, 0] * 85 / 128 + 5, atol=0.1)
    for g in range(3):
        assert np.any(sample["pono"][sample["gt_index"] == g] == 1.0), "every person has a best anchor"


def test_flip_mirrors_everything(tiny_config):
    image, ann = make_frame(2, seed=1)
    encoder = SampleEncoder(tiny_config, DataConfig(min_height_px=4))
    plain, flipped = encoder.encode(image, ann), encoder.encode(image, ann, flip=True)
    w = tiny_config.input_width
    np.testing.assert_allclose(flipped["boxes"][:, [2, 0]], w - plain["boxes"][:, [0, 2]], atol=1e-4)
    perm = BODY22.flip_permutation()
    np.testing.assert_allclose(flipped["keypoints"][:, perm, 0], w - plain["keypoints"][:, :, 0], atol=1e-4)
    np.testing.assert_allclose(flipped["poses"][:, perm, 0], -plain["poses"][:, :, 0], atol=1e-6)
    np.testing.assert_array_equal(flipped["image"], plain["image"][:, :, ::-1])


def test_filters_and_collate_padding(tiny_config):
    encoder = SampleEncoder(tiny_config, DataConfig(min_height_px=4, min_visible_fraction=0.5))
    image, ann = make_frame(3, seed=2)
    ann.persons.visible_fractions[1] = 0.1
    sparse = encoder.encode(image, ann)
    assert len(sparse["boxes"]) == 2
    images, targets = collate([sparse, encoder.encode(*make_frame(3, seed=3))])
    assert images.shape == (2, 3, 64, 96)
    assert targets.boxes.shape == (2, 3, 4) and targets.poses_valid.tolist() == [[True, True, False], [True] * 3]


def test_jta_folder_is_a_training_source(tiny_config, tmp_path):
    from crowd_perception.formats import open_writer
    from crowd_perception.models.pose3d.data import frames

    with open_writer("jta", tmp_path, split="train") as writer:
        for i in range(3):
            image, ann = make_frame(2, seed=i)
            ann.sequence, ann.frame_index = f"seq_{i % 2}", i
            ann.persons.ids[:] = [1, 2]
            writer.write(ann, image)
    data = DataConfig(jta_root=str(tmp_path), min_height_px=4)
    loaded = list(frames(data, "train", seed=0))
    assert len(loaded) == 3 and loaded[0][0].shape == (96, 128, 3)
    sample = SampleEncoder(tiny_config, data).encode(*loaded[0])
    assert len(sample["boxes"]) == 2 and sample["keypoints_valid"].all()
