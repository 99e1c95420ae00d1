import torch

from crowd_perception.models.pose2d.loss import LossWeights, pose_loss


def _batch(n=2, k=3, h=4, w=4, s=4, limbs=2):
    return {
        "target_heatmaps": torch.rand(n, k, h, w), "target_weights": torch.ones(n, k),
        "multi_heatmaps": torch.rand(n, k, h, w), "multi_weights": torch.ones(n, k),
        "relation": torch.rand(n, s, s), "limbs": torch.rand(n, limbs, h, w), "limb_weights": torch.ones(n, limbs),
        "mask": torch.rand(n, 1, h, w), "occlusion": torch.randint(0, 2, (n, k)).float(),
        "occlusion_weights": torch.ones(n, k), "domain": torch.tensor([0.0, 1.0]),
        "has_keypoints": torch.tensor([1.0, 0.0]), "has_mask": torch.ones(n),
    }


def test_weighted_sum_and_target_domain_has_no_keypoint_loss():
    torch.manual_seed(0)
    batch = _batch()
    outputs = {"heatmaps": torch.zeros(2, 3, 4, 4, requires_grad=True), "relation": torch.zeros(2, 4, 4)}
    total, terms = pose_loss(outputs, batch, LossWeights(target=1.0, relation=0.001))
    assert set(terms) == {"target", "relation"}
    expected_target = 0.5 * (batch["target_heatmaps"][0] ** 2).mean(dim=(1, 2)).sum() / 6  # sample 1 masked out
    assert abs(terms["target"] - float(expected_target)) < 1e-6
    assert abs(terms["relation"] - float((batch["relation"][0] ** 2).mean())) < 1e-6
    assert abs(float(total.detach()) - (terms["target"] + 0.001 * terms["relation"])) < 1e-6
    total.backward()
    assert outputs["heatmaps"].grad[1].abs().sum() == 0  # no gradient from the target-domain sample


def test_all_terms_present():
    batch = _batch()
    outputs = {
        "heatmaps": torch.zeros(2, 3, 4, 4), "multi_heatmaps": torch.zeros(2, 3, 4, 4), "relation": torch.zeros(2, 4, 4),
        "limbs": torch.zeros(2, 2, 4, 4), "mask": torch.zeros(2, 1, 4, 4), "occlusion_map": torch.zeros(2, 3, 4, 4),
        "domain": torch.zeros(2),
    }
    _, terms = pose_loss(outputs, batch, LossWeights())
    assert set(terms) == {"target", "multi", "relation", "limbs", "mask", "occlusion", "domain"}
    assert abs(terms["domain"] - float(torch.log(torch.tensor(2.0)))) < 1e-6  # BCE of logit 0
