import numpy as np
import pytest
import torch

from crowd_perception.core.skeletons import COCO17
from crowd_perception.models.pose2d.model import (
    InferenceWrapper,
    OccludedPoseNet,
    PoseNetConfig,
    incidence_matrix,
    occlusion_attention,
)

TINY = {"input_height": 64, "input_width": 64, "width": 0.25, "channels": 16, "type_dim": 8}


def test_incidence_matrix():
    k_g = incidence_matrix("coco17")
    assert k_g.shape == (len(COCO17.limbs), 17)
    np.testing.assert_array_equal(k_g.sum(axis=1), 2)
    a, b = COCO17.limbs[0]
    assert k_g[0, a] == k_g[0, b] == 1


def test_outputs_of_the_full_network():
    torch.manual_seed(0)
    model = OccludedPoseNet(PoseNetConfig(**TINY)).train()
    out = model(torch.rand(3, 3, 64, 64) * 255)
    assert out["heatmaps"].shape == (3, 17, 16, 16) and out["multi_heatmaps"].shape == (3, 17, 16, 16)
    assert out["relation"].shape == (3, 64, 64) and ((out["relation"] >= 0) & (out["relation"] <= 1)).all()
    assert out["limbs"].shape == (3, 18, 16, 16) and out["mask"].shape == (3, 1, 16, 16)
    assert out["occlusion"].shape == (3, 17) and out["domain"].shape == (3,)
    model.eval()
    heatmaps, occlusion = InferenceWrapper(model)(torch.rand(1, 3, 64, 64))
    assert heatmaps.shape == (1, 17, 16, 16) and occlusion.shape == (1, 17)


def test_limb_weights_are_derived_from_joint_weights():
    """The limb loss reaches the joint estimator's weights through the K_g + MLP weight generator."""
    torch.manual_seed(0)
    model = OccludedPoseNet(PoseNetConfig(**TINY)).train()
    model(torch.rand(2, 3, 64, 64) * 255)["limbs"].sum().backward()
    assert model.final_layer.weight.grad is not None and model.final_layer.weight.grad.abs().sum() > 0


def test_ablation_flags_remove_heads():
    model = OccludedPoseNet(PoseNetConfig(**TINY, use_trp=False, use_sgm=False, use_mask=False, use_domain=False))
    out = model.train()(torch.rand(2, 3, 64, 64))
    assert set(out) == {"heatmaps", "occlusion"}
    assert model.parser is None and model.sgm is None


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="multiple of 32"):
        OccludedPoseNet(PoseNetConfig(input_height=100))
    with pytest.raises(ValueError, match="unknown"):
        PoseNetConfig.from_dict({"bogus": 1})


@pytest.mark.parametrize("skeleton, joints", [("ped13", 13), ("crowdpose14", 14)])
def test_other_joint_sets(skeleton, joints):
    model = OccludedPoseNet(PoseNetConfig(**TINY, skeleton=skeleton)).train()
    out = model(torch.rand(2, 3, 64, 64))
    assert out["heatmaps"].shape[1] == joints and out["limbs"].shape[1] == incidence_matrix(skeleton).shape[0]


def test_peak_normalised_occlusion_pooling_reads_the_peak_of_a_weak_heatmap():
    """A sharp but low heatmap (peak 0.2, as early in training): peak normalisation pools the feature at
    the peak, the plain softmax(10 H) pools almost uniformly over the crop."""
    heatmaps = torch.zeros(1, 1, 16, 16)
    heatmaps[0, 0, 5, 9] = 0.2
    features = torch.rand(1, 1, 16, 16)
    pooled = {norm: float((occlusion_attention(heatmaps, norm) * features.flatten(2)).sum()) for norm in (False, True)}
    peak_feature = float(features[0, 0, 5, 9])
    assert pooled[True] == pytest.approx(peak_feature, abs=1e-3)
    assert abs(pooled[False] - peak_feature) > 10 * abs(pooled[True] - peak_feature)
    assert occlusion_attention(heatmaps, False).max() < 0.05  # old pooling: < 5 % of the weight on the peak


def test_occlusion_peak_norm_defaults_off_and_changes_only_the_occlusion_logits():
    torch.manual_seed(0)
    assert PoseNetConfig().occlusion_peak_norm is False
    plain = OccludedPoseNet(PoseNetConfig(**TINY)).eval()
    normed = OccludedPoseNet(PoseNetConfig(**TINY, occlusion_peak_norm=True)).eval()
    normed.load_state_dict(plain.state_dict())
    images = torch.rand(2, 3, 64, 64) * 255
    with torch.no_grad():
        a, b = plain(images), normed(images)
    torch.testing.assert_close(a["heatmaps"], b["heatmaps"])
    assert not torch.allclose(a["occlusion"], b["occlusion"])
