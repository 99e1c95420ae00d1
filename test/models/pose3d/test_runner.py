import numpy as np
import pytest

torch = pytest.importorskip("torch")

from crowd_perception.models.pose3d.config import DataConfig, Pose3DConfig  # noqa: E402
from crowd_perception.models.pose3d.data import SampleEncoder, collate  # noqa: E402
from crowd_perception.models.pose3d.model import PandaNet  # noqa: E402
from crowd_perception.models.pose3d.postprocess import PostprocessConfig  # noqa: E402
from crowd_perception.models.pose3d.runner import Pose3DEstimator  # noqa: E402
from crowd_perception.models.pose3d.train import build_task, calibrate_and_export  # noqa: E402
from crowd_perception.training import save_checkpoint  # noqa: E402

from .conftest import make_frame  # noqa: E402

LOW = PostprocessConfig(score_threshold=0.001, max_detections=5)


def test_estimate_places_poses_and_flags_missing_intrinsics(tiny_config):
    torch.manual_seed(0)
    estimator = Pose3DEstimator.from_torch(PandaNet(tiny_config), LOW)
    image, ann = make_frame(2)
    with_camera = estimator.estimate(image, ann.camera)
    without = estimator.estimate(image, None)
    assert len(with_camera) == 5 and with_camera.placed_with_intrinsics.all()
    assert not without.placed_with_intrinsics.any()
    assert with_camera.skeleton == "body22" and with_camera.boxes.shape == (5, 4)
    # joints_relative are the normalised poses scaled by the prior; boxes are in source pixels
    assert np.all(with_camera.boxes[:, 2] <= 128) and np.all(with_camera.boxes[:, 0] >= 0)
    with pytest.raises(ValueError, match="camera is for"):
        estimator.estimate(np.zeros((50, 60, 3), np.uint8), ann.camera)
    with pytest.raises(ValueError, match="uint8"):
        estimator.estimate(np.zeros((50, 60), np.float32), None)


def test_training_step_then_onnx_export_matches_torch(tiny_config, tmp_path):
    torch.manual_seed(0)
    cfg = Pose3DConfig(model=tiny_config, data=DataConfig(min_height_px=4))
    task = build_task(cfg)
    batch = collate([SampleEncoder(tiny_config, cfg.data).encode(*make_frame(3, seed=s)) for s in range(2)])
    loss, logs = task(batch)
    loss.backward()
    assert np.isfinite(loss.item()) and logs["positives"] > 0
    assert task.loss.weights.log_vars["pose3d"].grad.abs().sum() > 0

    checkpoint = save_checkpoint(tmp_path / "last.safetensors", task, cfg, step=1)
    with pytest.raises(ValueError, match="training checkpoint"):
        calibrate_and_export(checkpoint, num_frames=1)
    weights = tmp_path / "model.safetensors"
    threshold = calibrate_and_export(checkpoint, num_frames=2, out=weights)  # two synthetic validation frames
    assert 0.05 <= threshold <= 0.95 and (tmp_path / "model.onnx").is_file()
    image, ann = make_frame(2, seed=5)
    by_torch = Pose3DEstimator(weights)
    by_onnx = Pose3DEstimator(tmp_path / "model.onnx", postprocess_config=LOW)
    assert by_onnx.config == by_torch.config, "the ONNX metadata carries the model config"
    assert by_torch.postprocess_config.score_threshold == threshold, "the calibrated operating point is the default"
    batch = np.random.default_rng(0).normal(size=(1, 3, 64, 96)).astype(np.float32)
    raw_torch, raw_onnx = by_torch.backend.run({"images": batch}), by_onnx.backend.run({"images": batch})
    for name, value in raw_torch.items():
        np.testing.assert_allclose(raw_onnx[name], value, rtol=1e-3, atol=1e-4)
    poses = by_onnx.estimate(image, ann.camera)
    assert len(poses) == 5 and np.isfinite(poses.joints_relative).all()


def test_quick_eval_on_a_validation_frame(tiny_config):
    from crowd_perception.models.pose3d.train import quick_eval

    torch.manual_seed(0)
    cfg = Pose3DConfig(model=tiny_config, data=DataConfig(val_images=1))
    metrics = quick_eval(PandaNet(tiny_config), cfg)
    assert set(metrics) == {"ap", "recall", "mpjpe_mm", "pck", "root_error_m"}
    assert 0.0 <= metrics["recall"] <= 1.0
