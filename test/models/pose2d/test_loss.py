import torch

from crowd_perception.core.skeletons import get_skeleton
from crowd_perception.models.pose2d.loss import LossWeights, pose_loss, side_permutations


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
    expected_target = 0.5 * (batch["target_heatmaps"][0] ** 2).sum(dim=(1, 2)).sum() / 6  # sample 1 masked out
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


def test_heatmap_term_drives_the_shared_encoder(toy_frames):
    """Issue 13: with the per-pixel mean, the joint heatmap term's gradient on the encoder was ~30x smaller than
    the auxiliary BCE terms' (mask, occlusion, domain through the reversal layer), so the encoder learned
    no pose features and the heads fitted the mean pose. With the default weights the heatmap term must
    give the shared encoder a larger gradient than any auxiliary term."""
    from crowd_perception.models.pose2d.curriculum import Curriculum
    from crowd_perception.models.pose2d.data import AugmentConfig, BankConfig
    from crowd_perception.models.pose2d.frame_data import FrameBank, FrameTrainingSet, build_frame_bank, collate_frames
    from crowd_perception.models.pose2d.model import OccludedPoseNet, PoseNetConfig

    torch.manual_seed(0)
    bank = build_frame_bank(toy_frames, BankConfig(min_height=8.0, frame_stride=1), "coco17", (192, 256), 10)
    assert isinstance(bank, FrameBank)
    data = FrameTrainingSet(bank, (64, 64), AugmentConfig(curriculum=Curriculum(enabled=False)), rois_per_frame=3,
                            max_others=2, total_frames=10, relation_pool=2)
    batch = collate_frames([data[i] for i in range(3)])  # two keypoint frames, one target-domain frame
    model = OccludedPoseNet(PoseNetConfig(input_height=64, input_width=64, width=0.25, channels=16, type_dim=8,
                                          input_mode="frame", frame_height=192, frame_width=256)).train()
    model.domain_head.reverse.scale = 1.0
    encoder = [p for n, p in model.named_parameters() if n.startswith(("backbone", "fpn", "up"))]
    norms = {}
    for term in ("target", "mask", "occlusion", "domain"):
        only = LossWeights(**{k: (v if k == term else 0.0) for k, v in LossWeights().to_dict().items()})
        total, _ = pose_loss(model(batch["images"], batch["rois"]), batch, only)
        grads = torch.autograd.grad(total, encoder, allow_unused=True)
        norms[term] = float(torch.sqrt(sum((g**2).sum() for g in grads if g is not None)))
    assert all(norms["target"] > norms[t] for t in ("mask", "occlusion", "domain")), norms


def _gaussian_row(columns: list[float], k: int = 17, h: int = 8, w: int = 16, sigma: float = 2.0) -> torch.Tensor:
    """``(k, h, w)`` heatmaps with joint ``j`` at column ``columns[j]`` of row 4 (other joints empty)."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    maps = torch.zeros(k, h, w)
    for j, x in enumerate(columns):
        maps[j] = torch.exp(-((xs - x) ** 2 + (ys - 4) ** 2) / (2 * sigma**2))
    return maps


def _ambiguous_pair() -> dict[str, torch.Tensor]:
    """Two samples with the same pixels: left shoulder (5) at column 6 and right (6) at 9, and the mirror."""
    columns = [8.0] * 17
    facing, away = list(columns), list(columns)
    facing[5], facing[6], away[5], away[6] = 9.0, 6.0, 6.0, 9.0
    weights = torch.zeros(2, 17)
    weights[:, [5, 6]] = 1.0
    return {"target_heatmaps": torch.stack([_gaussian_row(facing), _gaussian_row(away)]), "target_weights": weights,
            "has_keypoints": torch.ones(2)}


def test_side_permutations_swap_joints_and_their_limbs():
    joints, limbs = side_permutations("coco17")
    skeleton = get_skeleton("coco17")
    assert skeleton.joints[joints[skeleton.index("left_wrist")]] == "right_wrist"
    for i, (a, b) in enumerate(skeleton.limbs):
        assert {int(joints[a]), int(joints[b])} == set(skeleton.limbs[limbs[i]])


def test_either_side_scores_a_mirrored_prediction_by_its_mirror():
    batch = _ambiguous_pair()
    mirrored = batch["target_heatmaps"][:, side_permutations("coco17")[0]]
    _, labelled = pose_loss({"heatmaps": mirrored}, batch, LossWeights())
    _, either = pose_loss({"heatmaps": mirrored}, batch, LossWeights(either_side=True))
    assert labelled["target"] > 0.1 and either["target"] < 1e-6 and either["swapped"] == 1.0


def _fit_shared_prediction(weights: LossWeights) -> torch.Tensor:
    """The heatmaps one prediction for both (identical-looking) samples converges to under ``weights``."""
    torch.manual_seed(0)
    batch = _ambiguous_pair()
    shared = torch.nn.Parameter(0.01 * torch.rand(1, 17, 8, 16) + batch["target_heatmaps"][:1] * 0.05)
    optimiser = torch.optim.Adam([shared], lr=0.05)
    for _ in range(300):
        optimiser.zero_grad()
        loss, _ = pose_loss({"heatmaps": shared.expand(2, -1, -1, -1)}, batch, weights)
        loss.backward()
        optimiser.step()
    return shared.detach()[0]


def test_labelled_sides_collapse_an_ambiguous_pair_and_either_side_does_not():
    """Issue 13's collapse in miniature: when the pixels cannot tell front from back, the best single
    prediction under labelled sides is the two sides' average, peaking between the shoulders for both
    joints; scored on either side, it keeps one shoulder on each side."""
    def peak_column(heatmap: torch.Tensor) -> int:
        return int(heatmap[4].argmax())

    collapsed = _fit_shared_prediction(LossWeights())
    assert peak_column(collapsed[5]) == peak_column(collapsed[6])
    assert 7 <= peak_column(collapsed[5]) <= 8
    spread = _fit_shared_prediction(LossWeights(either_side=True))
    assert {peak_column(spread[5]), peak_column(spread[6])} == {6, 9}
