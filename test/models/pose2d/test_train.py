"""A two-step training run on a bank of hand-made frames, through the shared loop."""

import numpy as np
import pytest
import torch

from crowd_perception.models.pose2d.config import PRESETS
from crowd_perception.models.pose2d.data import BankConfig, build_crop_bank
from crowd_perception.models.pose2d.frame_data import build_frame_bank
from crowd_perception.models.pose2d.model import OccludedPoseNet, PoseNetConfig
from crowd_perception.models.pose2d.train import PoseTask, load_or_build_bank, run_training
from crowd_perception.training import apply_overrides, load_weights

from .conftest import make_frame


def _frames():
    return [make_frame(i, domain="b" if i == 2 else "a") for i in range(3)]


def _check_run(result, run_dir, mode: str) -> None:
    assert result.steps == 2 and result.weights.is_file()
    state, config = load_weights(result.weights)
    assert config["model"]["input_height"] == 64 and config["model"]["input_mode"] == mode
    assert any(k.startswith("parser.") for k in state)
    log = (run_dir / "log.csv").read_text().splitlines()
    assert "domain" in log[0] and "relation" in log[0] and "occlusion" in log[0] and len(log) == 3


def test_smoke_training_writes_weights(tmp_path):
    """The default (frame mode): whole frames, RoIs per person."""
    build_frame_bank(_frames(), BankConfig(min_height=8.0, frame_stride=1), "coco17", (96, 160), 3).save(tmp_path / "frames.npz")
    cfg = apply_overrides(PRESETS["smoke"](), [f"data.bank_cache={tmp_path / 'frames.npz'}", "train.device=cpu"])
    _check_run(run_training(cfg, tmp_path / "run"), tmp_path / "run", "frame")


def test_crop_mode_training_writes_weights(tmp_path):
    bank = build_crop_bank(_frames(), BankConfig(frame_stride=1), "coco17", (64, 64), 20, np.random.default_rng(0))
    bank.save(tmp_path / "bank.npz")
    overrides = [f"data.bank_cache={tmp_path / 'bank.npz'}", "train.device=cpu", "model.input_mode=crop", "train.batch_size=4"]
    cfg = apply_overrides(PRESETS["smoke"](), overrides)
    _check_run(run_training(cfg, tmp_path / "run"), tmp_path / "run", "crop")


def test_frame_bank_of_another_frame_size_is_refused(tmp_path):
    build_frame_bank(_frames(), BankConfig(min_height=8.0, frame_stride=1), "coco17", (64, 96), 3).save(tmp_path / "frames.npz")
    cfg = apply_overrides(PRESETS["smoke"](), [f"data.bank_cache={tmp_path / 'frames.npz'}"])
    with pytest.raises(ValueError, match="network input"):
        load_or_build_bank(cfg)


def test_task_sets_reversal_weight_from_progress():
    cfg = PRESETS["smoke"]()
    task = PoseTask(OccludedPoseNet(PoseNetConfig(**{**cfg.model.__dict__, "input_mode": "crop"})), cfg.loss, total_steps=10)
    task.step.fill_(5)
    assert task.model.domain_head is not None
    batch = {k: torch.as_tensor(v) for k, v in _fake_batch().items()}
    _, logs = task.train()(batch)
    assert 0.9 < logs["grl_lambda"] < 1.0 and int(task.step) == 6


def _fake_batch(n=2, k=17, h=16, w=16):
    s = (h // 2) * (w // 2)
    return {
        "images": np.random.default_rng(0).uniform(0, 255, (n, 3, 64, 64)).astype(np.float32),
        "target_heatmaps": np.zeros((n, k, h, w), np.float32), "target_weights": np.ones((n, k), np.float32),
        "multi_heatmaps": np.zeros((n, k, h, w), np.float32), "multi_weights": np.ones((n, k), np.float32),
        "relation": np.zeros((n, s, s), np.float32), "limbs": np.zeros((n, 18, h, w), np.float32),
        "limb_weights": np.ones((n, 18), np.float32), "mask": np.zeros((n, 1, h, w), np.float32),
        "occlusion": np.zeros((n, k), np.float32), "occlusion_weights": np.ones((n, k), np.float32),
        "domain": np.array([0, 1], np.float32), "has_keypoints": np.array([1, 0], np.float32),
        "has_mask": np.ones(n, np.float32),
    }


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_its_network(name):
    cfg = PRESETS[name]()
    model = OccludedPoseNet(cfg.model)
    assert model.config.input_mode in ("frame", "crop")
    if cfg.model.input_mode == "frame" and name != "smoke":
        assert cfg.train.batch_size * cfg.data.rois_per_frame >= 32  # people per step, as the crop presets
