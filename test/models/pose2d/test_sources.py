"""``train pose --data``: a bank mixed from the synthetic engine and the real COCO / CrowdPose samples,
each part by its weight, target-domain parts without keypoints, and a smoke training run on it."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from crowd_perception.core.errors import InputError
from crowd_perception.formats import FormatError, open_writer
from crowd_perception.formats.mixture import parse_sources, part_sizes
from crowd_perception.models.pose2d.config import PRESETS
from crowd_perception.models.pose2d.sources import check_mixture, mixture_bank
from crowd_perception.models.pose2d.train import bank_builder, load_or_build_bank, run_training
from crowd_perception.training import apply_overrides, load_weights

from .conftest import make_frame


def _mix(fixtures_dir: Path) -> str:
    coco = fixtures_dir / "coco_keypoints/coco/test_coco.json"
    crowdpose = fixtures_dir / "crowdpose/crowdpose/test_crowdpose.json"
    return f"synth:train_a@0.5,coco:{coco}@0.3,crowdpose:{crowdpose}@0.2"


def _config(tmp_path: Path, mix: str, frames: int = 10):
    cfg = apply_overrides(PRESETS["smoke"](), [f"data.source_frames={frames}", "train.device=cpu"])
    return replace(cfg, data=replace(cfg.data, mix=mix, bank_cache=str(tmp_path / "frames.npz")))


def test_bank_parts_follow_the_weights(fixtures_dir, tmp_path):
    """10 frames at 0.5 / 0.3 / 0.2: each part fills its share (the 4-image COCO and 2-image CrowdPose
    samples repeat to do so), all with keypoints; COCO brings its people's masks."""
    cfg = _config(tmp_path, _mix(fixtures_dir))
    specs = parse_sources(cfg.data.mix)
    banks = mixture_bank(specs, 10, cfg.bank, bank_builder(cfg), seed=0)
    assert [len(b) for b in banks] == part_sizes([s.weight for s in specs], 10).tolist()
    assert all(b.has_keypoints.all() and (b.domain == 0).all() for b in banks)
    synth, coco, crowdpose = banks
    assert coco.has_mask.all() and np.isfinite(coco.keypoints).any()
    assert synth.images.shape[1:] == coco.images.shape[1:] == crowdpose.images.shape[1:]
    bank = load_or_build_bank(cfg)
    assert len(bank) == 10
    assert [p.name.startswith("frames_mix") for p in tmp_path.glob("*.npz")] == [True]  # named after the mixture


def _boxes_only_set(out: Path) -> Path:
    """Two hand-made frames written as CrowdHuman (full and visible boxes, no keypoints)."""
    with open_writer("crowdhuman", out, split="train") as writer:
        for seed in range(2):
            image, frame = make_frame(seed)
            writer.write(replace(frame, persons=replace(frame.persons, visible_boxes=frame.persons.boxes)), image)
    return out / "annotation_train.odgt"


def test_boxes_only_source_is_the_target_domain(fixtures_dir, tmp_path):
    coco = fixtures_dir / "coco_keypoints/coco/test_coco.json"
    cfg = _config(tmp_path, f"coco:{coco}@0.5,crowdhuman:{_boxes_only_set(tmp_path / 'ch')}@0.5", frames=4)
    real, target = mixture_bank(parse_sources(cfg.data.mix), 4, cfg.bank, bank_builder(cfg), seed=0)
    assert (real.domain == 0).all() and real.has_keypoints.all()
    assert (target.domain == 1).all() and not target.has_keypoints.any() and np.isnan(target.keypoints).all()


def test_mixture_errors_name_the_source(tmp_path):
    with pytest.raises(FormatError, match="'imagenet:/x'"):
        check_mixture(parse_sources("synth:train_a,imagenet:/x"), use_domain=True)
    with pytest.raises(InputError, match="no source with keypoints"):
        check_mixture(parse_sources("synth:train_b,crowdhuman:/x.odgt"), use_domain=True)
    with pytest.raises(InputError, match=r"'crowdhuman:/x\.odgt' has no keypoints.*use_domain"):
        check_mixture(parse_sources("synth:train_a,crowdhuman:/x.odgt"), use_domain=False)
    with pytest.raises(FormatError, match=r"'synth:train_z'.*unknown synth preset"):
        check_mixture(parse_sources("synth:train_z"), use_domain=True)


def test_smoke_training_on_a_real_and_synthetic_mixture(fixtures_dir, tmp_path):
    cfg = _config(tmp_path, _mix(fixtures_dir), frames=6)
    result = run_training(cfg, tmp_path / "run")
    assert result.steps == 2 and result.weights.is_file()
    _, config = load_weights(result.weights)
    assert config["data"]["mix"] == cfg.data.mix
