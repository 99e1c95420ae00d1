import numpy as np
import pytest

torch = pytest.importorskip("torch")

from crowd_perception.models.pose3d.model import ModelConfig, PandaNet  # noqa: E402


def test_output_shapes_and_anchor_order(tiny_config):
    torch.manual_seed(0)
    model = PandaNet(tiny_config).eval()
    scores, boxes, pose2d, pose3d = model(torch.zeros(2, 3, 64, 96))
    gh, gw = tiny_config.grid
    m = gh * gw * 3
    assert (gh, gw) == (8, 12) and tiny_config.stride == 8
    assert scores.shape == (2, m) and boxes.shape == (2, m, 4)
    assert pose2d.shape == (2, m, 22, 2) and pose3d.shape == (2, m, 22, 3)
    assert len(tiny_config.anchor_boxes()) == m
    # initial scores sit at the 1% prior, so the BCE over many negatives starts small
    assert torch.sigmoid(scores).mean().item() == pytest.approx(0.01, abs=0.005)


def test_flatten_matches_anchor_grid_order(tiny_config):
    model = PandaNet(tiny_config)
    a, c, h, w = 3, 4, 2, 5
    x = torch.arange(a * c * h * w, dtype=torch.float32).reshape(1, a * c, h, w)
    flat = model._flatten(x, c)
    # element (row 1, column 3, anchor 2, channel 1) of the map
    assert flat[0, (1 * w + 3) * a + 2, 1].item() == x[0, 2 * c + 1, 1, 3].item()


def test_seed_layout_has_stride_four():
    cfg = ModelConfig(input_height=64, input_width=96, pyramid_levels=3, anchors=((8.0, 16.0),))
    assert cfg.stride == 4 and cfg.grid == (16, 24)
    with pytest.raises(ValueError, match="multiple of 32"):
        PandaNet(ModelConfig(input_height=60, input_width=96, anchors=((8.0, 16.0),)))
    with pytest.raises(ValueError, match="anchors"):
        PandaNet(ModelConfig())
    assert np.all(np.isfinite(cfg.anchor_boxes()))


def test_pretrained_backbone_config_switches_input_normalisation(tiny_config):
    """A PandaNet built on the ImageNet MobileNet v2 takes ImageNet-normalised RGB (what its weights
    expect) in training, export metadata and the runner alike; the random-init default keeps its own."""
    import dataclasses

    from crowd_perception.models.common.pretrained import init_backbone
    from crowd_perception.models.pose3d.data import NORMALIZATION, normalization_for
    from crowd_perception.runtime.metadata import Normalization

    assert normalization_for(tiny_config) == NORMALIZATION
    cfg = dataclasses.replace(
        tiny_config,
        backbone="mobilenetv2",
        backbone_width=1.0,
        pretrained="mobilenetv2_imagenet.safetensors",
        freeze_bn=True,
        freeze_stem=True,
    )
    assert normalization_for(cfg) == Normalization() and Normalization().color == "rgb"
    model = PandaNet(cfg)
    init_backbone(model.backbone, cfg.pretrained)
    stem = model.backbone.stem_module()
    assert all(not p.requires_grad for p in stem.parameters())
    first_bn = model.backbone.features[0][1]
    assert first_bn.running_var.std() > 0  # loaded statistics, not the all-ones of a fresh layer
    scores, *_ = model.eval()(torch.zeros(1, 3, 64, 96))
    assert torch.isfinite(scores).all()
