"""PyTorch vs ONNX Runtime parity of every deployable network (small random-init configurations).

Each network is exported with the runtime's dynamo exporter (dynamic batch) and run on ORT CPU
with full graph optimisation; outputs must agree within ``|ort - torch| <= ATOL + RTOL |torch|``
for batches of 1 and 3. Random weights are enough: parity is a property of the graph, not of
training. BatchNorm running statistics are randomised so that folding them is exercised.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="parity needs torch")

from crowd_perception.runtime.backends import create_backend  # noqa: E402
from crowd_perception.runtime.export import ExportSpec, export_onnx, parity  # noqa: E402

RTOL, ATOL = 1e-3, 1e-4


def _randomise_batchnorm(module: torch.nn.Module) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.rand(m.num_features, generator=generator) - 0.5)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
    return module.eval()


def _detector() -> tuple[torch.nn.Module, tuple[int, int], list[str], float]:
    from crowd_perception.models.detector.model import DetectorConfig, PedestrianDetectorNet

    cfg = DetectorConfig(fpn_channels=16, head_convs=1, embedding_dim=16, input_size=(64, 96))
    return PedestrianDetectorNet(cfg), cfg.input_size, ["cls", "box", "iou", "embedding"], 1.0


def _pose2d() -> tuple[torch.nn.Module, tuple[int, int], list[str], float]:
    from crowd_perception.models.pose2d.model import InferenceWrapper, OccludedPoseNet, PoseNetConfig

    cfg = PoseNetConfig(input_height=64, input_width=64, channels=16, type_dim=8)
    return InferenceWrapper(OccludedPoseNet(cfg)), (64, 64), ["heatmaps", "occlusion"], 255.0


def _pose3d() -> tuple[torch.nn.Module, tuple[int, int], list[str], float]:
    from crowd_perception.models.pose3d.model import OUTPUT_NAMES, ModelConfig, PandaNet

    cfg = ModelConfig(input_height=64, input_width=96, fpn_channels=16, level_channels=16, head_channels=16,
                      head_depth=1, anchors=((12.0, 30.0), (24.0, 60.0)))
    return PandaNet(cfg), (64, 96), list(OUTPUT_NAMES), 1.0


@pytest.mark.slow
@pytest.mark.parametrize("build", [_detector, _pose2d, _pose3d], ids=["detector", "pose2d", "pose3d"])
def test_torch_onnxruntime_parity(build, tmp_path):
    torch.manual_seed(0)
    module, (h, w), outputs, pixel_scale = build()
    module = _randomise_batchnorm(module)
    spec = ExportSpec(
        name=build.__name__.strip("_"),
        module=module,
        example_inputs=(torch.rand(2, 3, h, w) * pixel_scale,),
        input_names=["images"],
        output_names=outputs,
        dynamic_batch={"images": (1, 2, 8)},
    )
    export_onnx(spec, tmp_path / "model.onnx")
    backend = create_backend(tmp_path / "model.onnx", "onnxruntime", threads=1)
    rng = np.random.default_rng(1)
    for batch in (1, 3):
        x = (rng.random((batch, 3, h, w)) * pixel_scale).astype(np.float32)
        report = parity(module, backend, [x], rtol=RTOL, atol=ATOL)
        assert report.ok, f"batch {batch}: {report}"
