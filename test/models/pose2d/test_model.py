import numpy as np
import pytest
import torch

from crowd_perception.core.skeletons import COCO17
from crowd_perception.models.pose2d.model import InferenceWrapper, OccludedPoseNet, PoseNetConfig, incidence_matrix

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
