import numpy as np
import pytest

from crowd_perception.models.pose2d.card import ship_run
from crowd_perception.runtime.metadata import ModelMetadata
from crowd_perception.training import read_config

from .conftest import make_frame


def _run(tiny_model):
    weights, _ = tiny_model
    run = weights.parent
    (run / "log.csv").write_text("step,loss,target,relation,elapsed_s\n20,0.5,0.04,0.6,30.0\n40,0.3,0.02,0.5,61.5\n")
    return run


def test_ship_run_exports_and_writes_card(tiny_model, tmp_path):
    written = ship_run(_run(tiny_model), tmp_path / "weights", command="crowd-perception train pose --preset smoke")
    names = sorted(p.name for p in written)
    assert names == ["pose2d.config.json", "pose2d.json", "pose2d.md", "pose2d.onnx", "pose2d.safetensors"]
    card = (tmp_path / "weights" / "pose2d.md").read_text()
    assert "40 steps x batch 2" in card and "1.0 min" in card and "target 0.0200" in card
    assert "--preset smoke" in card and "images (1, 3, 96, 160)" in card and "rois (N, 2, 3)" in card
    assert "not calibrated" in card
    meta = ModelMetadata.load(tmp_path / "weights" / "pose2d.json")
    assert meta.extra["input_mode"] == "frame"


def test_ship_run_folds_the_calibrated_threshold_into_the_weights(tiny_model, tmp_path):
    from crowd_perception.models.pose2d.calibrate import occlusion_logits_and_labels
    from crowd_perception.models.pose2d.runner import OccludedPoseEstimator

    weights, _ = tiny_model
    frames = [make_frame(i) for i in range(3)]
    ship_run(_run(tiny_model), tmp_path / "weights", command="x", calibration=frames, calibration_name="toy")
    calibration = read_config(tmp_path / "weights" / "pose2d.safetensors")["calibration"]
    assert calibration["frames"] == "toy" and calibration["accuracy_after"] >= calibration["accuracy_before"]
    before, labels = occlusion_logits_and_labels(OccludedPoseEstimator(weights, "torch"), frames)
    after, _ = occlusion_logits_and_labels(OccludedPoseEstimator(tmp_path / "weights" / "pose2d.onnx"), frames)
    np.testing.assert_allclose(after, before - calibration["threshold"], atol=1e-3)  # same logits, shifted
    assert ((after > 0) == labels).mean() == pytest.approx(calibration["accuracy_after"])
    assert "calibrated on `toy`" in (tmp_path / "weights" / "pose2d.md").read_text()


def test_ship_run_refuses_incomplete_runs(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"model\.safetensors"):
        ship_run(tmp_path, tmp_path / "weights", command="x")


def test_wall_minutes_add_up_over_resumes():
    from crowd_perception.training.monitor import wall_minutes

    rows = [{"elapsed_s": s} for s in ("60", "120", "30", "90", "600")]  # a resume after 120 s, then one segment to 600 s
    assert wall_minutes(rows) == pytest.approx((120 + 600) / 60)
    assert wall_minutes([{"elapsed_s": "61.5"}]) == pytest.approx(61.5 / 60)


def test_card_of_a_blazepose_model_names_the_trunks_source_and_licence(tmp_path):
    """A model on the converted BlazePose trunk: its card says where the trunk came from and under which licence."""
    from dataclasses import replace

    from crowd_perception.models.pose2d.config import PRESETS
    from crowd_perception.models.pose2d.model import OccludedPoseNet
    from crowd_perception.training import save_weights

    cfg = PRESETS["cpu_blazepose"]()
    cfg.model = replace(cfg.model, input_height=64, input_width=64)
    run = tmp_path / "run"
    run.mkdir()
    save_weights(run / "model.safetensors", OccludedPoseNet(cfg.model).eval(), cfg)
    (run / "log.csv").write_text("step,loss,target,elapsed_s\n20,0.5,0.04,30.0\n")
    ship_run(run, tmp_path / "weights", command="crowd-perception train pose --preset cpu_blazepose")
    card = (tmp_path / "weights" / "pose2d.md").read_text()
    assert "mediapipe 0.10.21" in card and "pose_landmark_full.tflite" in card and "Apache-2.0" in card
    assert "fixed BlazePose trunk" in card and "no pretrained backbone" not in card
    assert ModelMetadata.load(tmp_path / "weights" / "pose2d.json").extra["input_mode"] == "crop"
