"""The network: raw head tensors with one row per anchor point, the same in train and eval mode."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from crowd_perception.models.detector.model import DetectorConfig, PedestrianDetectorNet  # noqa: E402

TINY = DetectorConfig(backbone_width=0.25, fpn_channels=16, head_convs=1, embedding_dim=8, input_size=(64, 96))


@pytest.mark.parametrize("extra_levels", [0, 2])
def test_outputs_match_anchor_points(extra_levels: int) -> None:
    net = PedestrianDetectorNet(DetectorConfig(**{**TINY.__dict__, "extra_levels": extra_levels}))
    points, strides = net.anchor_points(64, 96)
    for mode in (net.train, net.eval):
        mode()
        cls, box, iou, emb = net(torch.zeros(2, 3, 64, 96))
        n = len(points)
        assert cls.shape == (2, n, 1) and box.shape == (2, n, 4) and iou.shape == (2, n, 1) and emb.shape == (2, n, 8)
        assert (box > 0).all()
    assert sorted(set(strides.tolist())) == list(net.strides)


def test_initial_scores_follow_the_prior() -> None:
    net = PedestrianDetectorNet(TINY).eval()
    with torch.no_grad():
        cls, *_ = net(torch.randn(1, 3, 64, 96))
    assert torch.sigmoid(cls).mean().item() == pytest.approx(0.01, abs=0.01)


def test_no_embedding_branch() -> None:
    net = PedestrianDetectorNet(DetectorConfig(**{**TINY.__dict__, "embedding_dim": 0}))
    assert net(torch.zeros(1, 3, 64, 96))[3].shape[-1] == 0


def test_other_backbones_build() -> None:
    for name in ("resnet50", "darknet53"):
        net = PedestrianDetectorNet(DetectorConfig(**{**TINY.__dict__, "backbone": name, "backbone_width": 0.125}))
        assert net(torch.zeros(1, 3, 64, 96))[0].shape[1] == len(net.anchor_points(64, 96)[0])
