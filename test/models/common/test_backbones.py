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
        ("mobilenetv2", {}),
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
    assert build_backbone("mobilenetv2").out_channels == (32, 96, 320)
    assert set(BACKBONES) == {"compact", "resnet50", "darknet53", "mobilenetv2"}


def test_mobilenetv2_exists_at_width_one_only() -> None:
    with pytest.raises(ValueError, match=r"width 1\.0 only"):
        build_backbone("mobilenetv2", width=0.5)


@pytest.mark.parametrize("name", ["compact", "mobilenetv2"])
def test_freeze_keeps_statistics_and_stem(name: str) -> None:
    """Frozen batch norm does not move its statistics in training mode and matches the eval-mode
    BatchNorm it replaced; a frozen stem gets no gradient while the stages above it do."""
    torch.manual_seed(0)
    backbone = build_backbone(name)
    with torch.no_grad():  # non-trivial statistics, as pretrained weights have
        for m in backbone.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 3, 64, 96)
    reference = [f.detach() for f in backbone.eval()(x)]
    state = {k: v.clone() for k, v in backbone.state_dict().items() if not k.endswith("num_batches_tracked")}
    backbone.freeze(batch_norm=True, stem=True)
    backbone.load_state_dict(state)  # strict: same names, no num_batches_tracked left
    backbone.train()
    outputs = backbone(x)
    for f, r in zip(outputs, reference, strict=True):
        torch.testing.assert_close(f, r, rtol=1e-4, atol=1e-4)
    sum(f.square().mean() for f in outputs).backward()
    after = backbone.state_dict()
    assert all(torch.equal(after[k], v) for k, v in state.items())
    assert all(p.grad is None for p in backbone.stem_module().parameters())
    stage_grads = [p.grad for n, p in backbone.named_parameters() if p.requires_grad]
    assert stage_grads and all(g is not None and g.abs().sum() > 0 for g in stage_grads)


def test_unknown_backbone() -> None:
    with pytest.raises(ValueError, match="unknown backbone"):
        build_backbone("vgg")
