"""Tiny torch models exported once per test session, shared by the runtime tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="exporting needs torch (the 'train' extra)")

from crowd_perception.runtime.export import ExportSpec, export_onnx  # noqa: E402
from crowd_perception.runtime.metadata import Normalization  # noqa: E402


class TinyNet(torch.nn.Module):
    """Conv + BN + upsample with a heatmap-like and a vector output, like the real models' heads."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.head = torch.nn.Conv2d(4, 2, 1)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        features = torch.relu(self.bn(self.conv(image)))
        heat = torch.nn.functional.interpolate(self.head(features), scale_factor=2.0, mode="bilinear")
        return {"heatmaps": torch.sigmoid(heat), "embedding": torch.nn.functional.normalize(features.mean((2, 3)), dim=1)}


def tiny_spec() -> ExportSpec:
    torch.manual_seed(0)
    module = TinyNet().eval()
    with torch.no_grad():  # non-trivial BN statistics so folding them is actually tested
        module.bn.running_mean.uniform_(-0.5, 0.5)
        module.bn.running_var.uniform_(0.5, 2.0)
    return ExportSpec(
        name="tiny",
        module=module,
        example_inputs=(torch.randn(2, 3, 16, 24),),
        input_names=["image"],
        output_names=["heatmaps", "embedding"],
        dynamic_batch={"image": (1, 4, 8)},
        input_size=(16, 24),
        normalization=Normalization(),
        skeleton="body22",
        extra={"stride": 1},
    )


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ExportSpec]:
    """``(onnx_path, spec)`` of the tiny model, exported once (metadata JSON beside it)."""
    spec = tiny_spec()
    path = tmp_path_factory.mktemp("tiny") / "tiny.onnx"
    export_onnx(spec, path)
    return path, spec


@pytest.fixture
def tiny_copy(tiny_model: tuple[Path, ExportSpec], tmp_path: Path) -> Path:
    """A private copy of the tiny model and its metadata that a test may corrupt."""
    src, _ = tiny_model
    dst = tmp_path / "tiny.onnx"
    dst.write_bytes(src.read_bytes())
    dst.with_suffix(".json").write_bytes(src.with_suffix(".json").read_bytes())
    return dst


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
