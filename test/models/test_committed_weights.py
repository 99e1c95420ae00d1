"""The shipped weights and the committed training checkpoints load with the package's own loaders
(runners for weights, the training loop's ``load_checkpoint`` for ``--resume``), strictly, so a
renamed parameter or module breaks this test and not a user's resume."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from crowd_perception.training import config_from_dict, load_checkpoint, read_config  # noqa: E402
from crowd_perception.training.config import TrainConfig  # noqa: E402
from crowd_perception.training.loop import build_optimizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = ROOT / "crowd_perception" / "weights"


def _detector_task(path: Path) -> torch.nn.Module:
    from crowd_perception.models.detector.config import DetectorTrainingConfig
    from crowd_perception.models.detector.loss import DetectionCriterion
    from crowd_perception.models.detector.model import PedestrianDetectorNet
    from crowd_perception.models.detector.train import DetectorTask

    cfg = config_from_dict(DetectorTrainingConfig, read_config(path))
    return DetectorTask(PedestrianDetectorNet(cfg.model), DetectionCriterion(cfg.loss, cfg.model.embedding_dim))


def _pose3d_task(path: Path) -> torch.nn.Module:
    from crowd_perception.models.pose3d.config import Pose3DConfig
    from crowd_perception.models.pose3d.train import build_task

    return build_task(config_from_dict(Pose3DConfig, read_config(path)))


@pytest.mark.parametrize(
    ("checkpoint", "build"),
    [
        ("runs/detector/synth-mobilenetv2/last.safetensors", _detector_task),
        ("runs/pose3d/mobilenetv2/last.safetensors", _pose3d_task),
    ],
)
def test_committed_checkpoints_resume(checkpoint: str, build) -> None:
    path = ROOT / checkpoint
    if not path.is_file():
        pytest.skip(f"{checkpoint} not in this checkout")
    task = build(path)
    optimizer = build_optimizer(task.parameters(), config_from_dict(TrainConfig, read_config(path)["train"]))
    info = load_checkpoint(path, task, optimizer, restore_rng=False)
    assert info["step"] > 0
    assert all(torch.isfinite(p).all() for p in task.parameters())


def test_shipped_detector_loads_in_torch() -> None:
    from crowd_perception.models.detector.runner import PedestrianDetector

    assert PedestrianDetector(WEIGHTS / "detector.safetensors", backend="torch").backend is not None


def test_shipped_pose3d_loads_in_torch() -> None:
    from crowd_perception.models.pose3d.runner import Pose3DEstimator

    assert Pose3DEstimator(WEIGHTS / "pose3d.safetensors").backend is not None


def test_shipped_pose2d_loads_in_torch() -> None:
    from crowd_perception.models.pose2d.runner import OccludedPoseEstimator

    OccludedPoseEstimator(WEIGHTS / "pose2d.safetensors", backend="torch")
