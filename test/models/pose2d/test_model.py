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
    pool_occlusion,
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
    assert out["occlusion_map"].shape == (3, 17, 16, 16) and out["domain"].shape == (3,)
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
    assert set(out) == {"heatmaps", "occlusion_map"}
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


def test_occlusion_pooling_reads_the_peak_of_a_weak_heatmap():
    """A sharp but low heatmap (peak 0.2, as early in training): the peak-normalised softmax pools the
    occlusion logit map at the peak, not almost uniformly over the crop."""
    heatmaps = torch.zeros(1, 1, 16, 16)
    heatmaps[0, 0, 5, 9] = 0.2
    logits = torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    attention = occlusion_attention(heatmaps)[0, 0]
    assert int(attention.argmax()) == 5 * 16 + 9 and float(attention.max()) > 0.98  # e^10 against 255 cells of e^0
    assert float(pool_occlusion(logits, heatmaps)) == pytest.approx(float(logits[0, 0, 5, 9]), abs=0.02)


def test_eval_mode_pools_the_occlusion_map_under_the_predicted_heatmaps():
    torch.manual_seed(0)
    model = OccludedPoseNet(PoseNetConfig(**TINY)).eval()
    images = torch.rand(2, 3, 64, 64) * 255
    with torch.no_grad():
        out = model(images)
        features, _ = model.person_features(images, None)
        mask = model.mask_head(features)
        occlusion_input = torch.cat([features * (1 + torch.sigmoid(mask)), mask], dim=1)
        expected = pool_occlusion(model.occlusion_head(occlusion_input), out["heatmaps"])
        train_out = model.train()(images)
    assert "occlusion_map" not in out and out["occlusion"].shape == (2, 17)
    torch.testing.assert_close(out["occlusion"], expected)
    assert train_out["occlusion_map"].shape == (2, 17, 16, 16) and "occlusion" not in train_out


FRAME = {**TINY, "input_mode": "frame", "frame_height": 96, "frame_width": 160, "head_conv": "separable"}


def _rois(count: int) -> torch.Tensor:
    from crowd_perception.models.pose2d.crops import crop_transforms
    from crowd_perception.models.pose2d.roi import roi_matrices

    centers = np.stack([np.linspace(30, 130, count), np.full(count, 48.0)], axis=1)
    transforms = crop_transforms(centers, np.tile([[40.0, 40.0]], (count, 1)), (64, 64))
    return torch.from_numpy(roi_matrices(transforms, np.eye(2, 3), 4))


def test_frame_mode_runs_one_encoder_pass_for_all_people():
    torch.manual_seed(0)
    model = OccludedPoseNet(PoseNetConfig(**FRAME)).train()
    frames = torch.rand(2, 3, 96, 160) * 255
    out = model(frames, torch.stack([_rois(3), _rois(3)]))
    assert out["heatmaps"].shape == (6, 17, 16, 16) and out["domain"].shape == (6,)
    model.eval()
    calls = []
    model.backbone.register_forward_hook(lambda *args: calls.append(1))
    heatmaps, occlusion = InferenceWrapper(model)(frames[:1], _rois(5))
    assert heatmaps.shape == (5, 17, 16, 16) and occlusion.shape == (5, 17) and len(calls) == 1
    # each person's output depends on its own RoI only: the same RoI gives the same heatmaps in any batch
    alone, _ = InferenceWrapper(model)(frames[:1], _rois(5)[2:3])
    torch.testing.assert_close(alone[0], heatmaps[2], atol=1e-5, rtol=1e-4)


def test_frame_mode_needs_rois_and_crop_mode_refuses_them():
    with pytest.raises(ValueError, match="rois"):
        OccludedPoseNet(PoseNetConfig(**FRAME))(torch.rand(1, 3, 96, 160))
    with pytest.raises(ValueError, match="rois"):
        OccludedPoseNet(PoseNetConfig(**TINY))(torch.rand(1, 3, 64, 64), _rois(1)[None])
    with pytest.raises(ValueError, match="input_mode"):
        PoseNetConfig(input_mode="pixels").validate()


def test_separable_head_is_cheaper():
    def head_parameters(conv: str) -> int:
        model = OccludedPoseNet(PoseNetConfig(**{**TINY, "channels": 32, "head_conv": conv}))
        return sum(p.numel() for name, p in model.named_parameters() if name.startswith(("parser", "predict_net", "sgm")))

    assert head_parameters("separable") < 0.5 * head_parameters("full")


def test_occlusion_head_sees_the_instance_mask():
    """The mask logit is an input of the occlusion head: changing only the mask head changes occlusion."""
    torch.manual_seed(0)
    model = OccludedPoseNet(PoseNetConfig(**TINY)).eval()
    assert model.occlusion_head.local[0][0].in_channels == TINY["channels"] + 1
    images = torch.rand(1, 3, 64, 64) * 255
    with torch.no_grad():
        before = model(images)["occlusion"]
        model.mask_head.bias += 5.0
        after = model(images)["occlusion"]
    assert not torch.allclose(before, after)
    assert OccludedPoseNet(PoseNetConfig(**TINY, use_mask=False)).occlusion_head.local[0][0].in_channels == TINY["channels"]


def test_person_level_occlusion_term_shifts_every_position_equally():
    """The person-level term is constant over the crop, so it adds exactly to the pooled logit."""
    from crowd_perception.models.pose2d.model import OcclusionHead, head_conv3

    torch.manual_seed(0)
    head = OcclusionHead(4, 3, head_conv3("full")).eval()
    features = torch.rand(2, 4, 8, 6)
    with torch.no_grad():
        full = head(features)
        local = head.local(features)
        heatmaps = torch.rand(2, 3, 8, 6)
        pooled_gap = pool_occlusion(full, heatmaps) - pool_occlusion(local, heatmaps)
    torch.testing.assert_close(full - local, (full - local)[..., :1, :1].expand_as(full))
    torch.testing.assert_close(pooled_gap, (full - local)[..., 0, 0], atol=1e-5, rtol=1e-5)


def _local_share(model: OccludedPoseNet, image: torch.Tensor) -> float:
    """Share of the encoder's response to a one-pixel change that stays in and next to that pixel's stride-4 cell."""
    poked = image.clone()
    poked[..., 33, 33] += 200.0  # stride-4 cell (8, 8)
    change = (model.encode(poked)[0] - model.encode(image)[0]).abs().sum(1)[0]
    return float(change[7:10, 7:10].sum() / change.sum())


def test_fine_skip_adds_the_stride4_features_and_old_configs_still_load():
    """``fine_skip``: the per-person features see the backbone's stride-4 map (not only P3 up-sampled from stride 8),
    so a one-pixel change moves the features more in its own stride-4 cell; without it, state-dict names are unchanged."""
    torch.manual_seed(0)
    plain = OccludedPoseNet(PoseNetConfig(**TINY)).eval()
    fine = OccludedPoseNet(PoseNetConfig(**TINY, fine_skip=True)).eval()
    assert fine.fine is not None and plain.fine is None
    assert set(plain.state_dict()) == {k for k in fine.state_dict() if not k.startswith("fine.")}
    old = {k: v for k, v in PoseNetConfig(**TINY).to_dict().items() if k != "fine_skip"}  # a config saved before the flag
    assert PoseNetConfig.from_dict(old).fine_skip is False
    image = torch.rand(1, 3, 64, 64) * 255
    with torch.no_grad():
        assert fine(image)["heatmaps"].shape == (1, 17, 16, 16)
        assert _local_share(fine, image) > _local_share(plain, image)


def test_fine_skip_on_mobilenetv2_taps_its_stride4_stem():
    """MobileNet v2 has no stem/stages split: ``fine_skip`` takes its 24-channel stride-4 stem output."""
    net = OccludedPoseNet(PoseNetConfig(**{**TINY, "backbone": "mobilenetv2", "width": 1.0}, fine_skip=True)).eval()
    assert net.fine is not None and net.fine[0].in_channels == 24
    with torch.no_grad():
        assert net(torch.rand(2, 3, 64, 64) * 255)["heatmaps"].shape == (2, 17, 16, 16)


def test_blazepose_backbone_trains_only_the_heads():
    """``backbone="blazepose"``: the fixed real-photo trunk feeds the heads at stride 4; no gradient reaches it."""
    net = OccludedPoseNet(PoseNetConfig(input_height=128, input_width=96, backbone="blazepose", channels=16, type_dim=8))
    trunk = set(map(id, net.backbone.parameters()))
    assert trunk and not any(p.requires_grad for p in net.backbone.parameters())
    out = net(torch.rand(2, 3, 128, 96) * 255)
    assert out["heatmaps"].shape == (2, 17, 32, 24)
    sum(v.float().sum() for v in out.values()).backward()
    trained = [p for p in net.parameters() if p.grad is not None]
    assert trained and not any(id(p) in trunk for p in trained)


def test_trunk_prior_adds_the_trunks_own_joint_heatmaps():
    """With ``trunk_prior`` the target heatmaps are the heads' output plus, per joint, a learned multiple of the
    trunk's heatmap of that joint: with a silent head they are exactly the trunk's (sigmoid) maps."""
    from crowd_perception.models.common.blazepose import BLAZEPOSE_TO_COCO17, BlazePoseTrunk

    net = OccludedPoseNet(PoseNetConfig(input_height=128, input_width=96, backbone="blazepose", channels=16, type_dim=8,
                                        trunk_prior=True)).eval()
    with torch.no_grad():
        net.final_layer.weight.zero_()
        net.final_layer.bias.zero_()
        net.prior_scale.copy_(torch.linspace(0.5, 1.5, 17))
        images = torch.rand(2, 3, 128, 96) * 255
        trunk = net.backbone(images / 255.0)
        expected = torch.sigmoid(trunk[:, BlazePoseTrunk.heatmap_channels(BLAZEPOSE_TO_COCO17)]) * net.prior_scale.view(1, -1, 1, 1)
        torch.testing.assert_close(net(images)["heatmaps"], expected)
    assert "prior_scale" in dict(net.named_parameters())


@pytest.mark.parametrize("change", [{"backbone": "compact"}, {"skeleton": "ped13"}])
def test_trunk_prior_needs_blazepose_on_coco17(change):
    with pytest.raises(ValueError, match="trunk_prior"):
        PoseNetConfig(**{**TINY, "backbone": "blazepose", "trunk_prior": True, **change}).validate()


@pytest.mark.parametrize("change", [{"input_mode": "frame"}, {"pretrained": "mobilenetv2_imagenet.safetensors"}])
def test_blazepose_backbone_is_a_crop_network_without_other_weights(change):
    with pytest.raises(ValueError, match="blazepose"):
        PoseNetConfig(**{**TINY, "backbone": "blazepose", **change}).validate()
