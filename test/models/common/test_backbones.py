"""Backbones: output strides and channel counts match what they declare."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from crowd_perception.models.common import BACKBONES, build_backbone  # noqa: E402


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("compact", {}),
        ("compact", {"width": 0.5}),
        ("resnet50", {"width": 0.125, "depths": (1, 1, 1, 1)}),
        ("darknet53", {"width": 0.125, "depths": (1, 1, 1, 1, 1)}),
    ],
)
def test_backbone_shapes(name: str, kwargs: dict) -> None:
    backbone = build_backbone(name, **kwargs).eval()
    x = torch.zeros(1, 3, 64, 96)
    with torch.no_grad():
        features = backbone(x)
    assert len(features) == 3
    for f, c, s in zip(features, backbone.out_channels, backbone.strides, strict=True):
        assert f.shape == (1, c, 64 // s, 96 // s)


def test_full_size_channel_counts() -> None:
    assert build_backbone("resnet50").out_channels == (512, 1024, 2048)
    assert build_backbone("darknet53").out_channels == (256, 512, 1024)
    assert set(BACKBONES) == {"compact", "resnet50", "darknet53"}


def test_unknown_backbone() -> None:
    with pytest.raises(ValueError, match="unknown backbone"):
        build_backbone("vgg")
