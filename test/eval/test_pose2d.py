import math

import numpy as np
import pytest

from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations
from crowd_perception.core.skeletons import COCO17, CROWDPOSE14, PED13
from crowd_perception.core.types import JointState, Poses2D
from crowd_perception.eval.pose2d import (
    crowd_index,
    crowd_level,
    joint_spread,
    left_right_agreement,
    occlusion_state_accuracy,
    oks_ap,
    pck,
    spread_ratios,
)


def _frame(keypoints, boxes, states=None, skeleton="coco17"):
    k = np.asarray(keypoints, dtype=np.float32)
    if states is None:
        states = np.full(k.shape[:2], JointState.VISIBLE)
    persons = PersonAnnotations(skeleton, boxes, keypoints=k, keypoint_states=states)
    return FrameAnnotation("img", 640, 480, persons)


def _toy_person(rng):
    return rng.uniform(100, 300, size=(1, 17, 2))


def test_perfect_prediction_has_ap_one():
    rng = np.random.default_rng(0)
    kpts = _toy_person(rng)
    frame = _frame(kpts, [[80, 80, 320, 320]])
    pred = Poses2D("coco17", kpts, np.ones((1, 17)), person_scores=[0.9])
    result = oks_ap([frame], [pred])
    assert result["AP"] == pytest.approx(1.0) and result["AR"] == pytest.approx(1.0)


def test_hand_checked_oks():
    """Every joint displaced so that its OKS term is exactly 0.62: passes thresholds 0.50, 0.55, 0.60 only.

    OKS term = exp(-d^2 / (2 s^2 k^2)) with s^2 = area = 200 * 200 and k = 2 sigma, so
    d = 2 sigma * 200 * sqrt(2 ln(1 / 0.62)). One GT, one detection -> AP = 3 / 10 (AP50 = 1, AP75 = 0).
    """
    rng = np.random.default_rng(1)
    kpts = _toy_person(rng)
    frame = _frame(kpts, [[100, 100, 300, 300]])
    d = 2 * np.asarray(COCO17.sigmas) * 200 * math.sqrt(2 * math.log(1 / 0.62))
    pred = Poses2D("coco17", kpts + np.stack([d, np.zeros(17)], axis=1)[None], np.ones((1, 17)), person_scores=[1.0])
    result = oks_ap([frame], [pred])
    assert result["AP"] == pytest.approx(0.3)
    assert result["AP50"] == pytest.approx(1.0) and result["AP75"] == pytest.approx(0.0)


def test_false_positive_ranked_first_halves_precision():
    """Two images, one GT each; a high-scoring wrong pose in image 1 and a perfect one in image 2:
    precision 1/2 at recall 1/2 and 2/3... -> the interpolated AP of a 2-GT, 3-detection ranking."""
    rng = np.random.default_rng(2)
    a, b = _toy_person(rng), _toy_person(rng)
    frames = [_frame(a, [[80, 80, 320, 320]]), _frame(b, [[80, 80, 320, 320]])]
    preds = [
        Poses2D("coco17", np.concatenate([a + 200, a]), np.ones((2, 17)), person_scores=[0.9, 0.5]),
        Poses2D("coco17", b, np.ones((1, 17)), person_scores=[0.8]),
    ]
    # Ranking: FP (0.9), TP (0.8), TP (0.5): precision at recall 0.5 = 1/2, at recall 1 = 2/3;
    # interpolated (max to the right) = 2/3 everywhere -> AP = 2/3 at every threshold.
    assert oks_ap(frames, preds)["AP"] == pytest.approx(2 / 3, abs=0.01)


def test_skeleton_sigmas_are_used():
    rng = np.random.default_rng(3)
    kpts = rng.uniform(100, 300, size=(1, 14, 2))
    frame = _frame(kpts, [[100, 100, 300, 300]], skeleton="crowdpose14")
    d = 2 * np.asarray(CROWDPOSE14.sigmas) * 200 * math.sqrt(2 * math.log(1 / 0.62))
    pred = Poses2D("crowdpose14", kpts + np.stack([d, np.zeros(14)], axis=1)[None], np.ones((1, 14)), person_scores=[1.0])
    assert oks_ap([frame], [pred], skeleton="crowdpose14")["AP"] == pytest.approx(0.3)
    # Converted to PED13 (COCO without eyes/ears) the same COCO-17 pose is scored on 13 joints.
    kp17 = _toy_person(rng)
    frame17 = _frame(kp17, [[100, 100, 300, 300]])
    pred17 = Poses2D("coco17", kp17, np.ones((1, 17)), person_scores=[1.0])
    assert len(PED13.sigmas) == 13
    assert oks_ap([frame17], [pred17], skeleton="ped13")["AP"] == pytest.approx(1.0)


def test_crowd_index_hand_checked():
    kp = np.full((2, 17, 2), np.nan, np.float32)
    kp[0, :4] = [[10, 10], [12, 12], [14, 14], [16, 16]]  # person 0: 4 joints
    kp[1, :2] = [[15, 15], [100, 100]]  # person 1: 2 joints, one inside person 0's box
    frame = _frame(kp, [[0, 0, 20, 20], [90, 90, 110, 110]])
    # person 0: N_b = 1 (person 1's joint at 15,15), N_a = 4; person 1: N_b = 0 -> (0.25 + 0) / 2
    assert crowd_index(frame) == pytest.approx(0.125)
    assert crowd_level(0.125) == "medium" and crowd_level(0.05) == "easy" and crowd_level(0.9) == "hard"


def test_pck_and_occlusion_accuracy():
    gt = np.zeros((1, 3, 2))
    pred = np.array([[[1.0, 0.0], [5.0, 0.0], [20.0, 0.0]]])
    boxes = np.array([[0, 0, 50, 100]])  # threshold 0.1 * 100 = 10 px
    assert pck(gt, pred, boxes, np.array([[True, True, True]])) == pytest.approx(2 / 3)
    assert pck(gt, pred, boxes, np.array([[False, False, True]])) == 0.0
    assert math.isnan(pck(gt, pred, boxes, np.zeros((1, 3), bool)))
    s = JointState
    gt_states = np.array([[s.VISIBLE, s.OCCLUDED_BY_PERSON, s.UNKNOWN, s.OCCLUDED]])
    pred_states = np.array([[s.VISIBLE, s.OCCLUDED, s.OCCLUDED, s.VISIBLE]])
    assert occlusion_state_accuracy(gt_states, pred_states) == pytest.approx(2 / 3)


def test_length_mismatch_raises():
    with pytest.raises(ValueError):
        oks_ap([], [Poses2D.empty("coco17")])


@pytest.mark.parametrize(
    "relative, skeleton",
    [
        ("coco_keypoints/coco/test_coco.json", "coco17"),
        ("crowdpose/crowdpose/test_crowdpose.json", "crowdpose14"),
        ("ochuman/ochuman/test_ochuman.json", "coco17"),
    ],
)
def test_real_fixtures(fixtures_dir, relative, skeleton):
    """On real COCO / CrowdPose / OCHuman ground truth: GT as prediction scores 1, a 10 % box-size shift much less."""
    from crowd_perception.formats.coco import read_coco

    frames = [item.annotation for item in read_coco(fixtures_dir / relative)]
    assert frames and frames[0].persons.skeleton == skeleton

    def as_pred(frame, shift=0.0):
        kp = frame.persons.keypoints.copy()
        size = np.maximum(frame.persons.boxes[:, 2] - frame.persons.boxes[:, 0], frame.persons.boxes[:, 3] - frame.persons.boxes[:, 1])
        kp[..., 0] += shift * size[:, None]
        centres = (frame.persons.boxes[:, None, :2] + frame.persons.boxes[:, None, 2:]) / 2
        kp = np.where(np.isfinite(kp), kp, centres)  # unlabelled people: a pose inside their box (matched, ignored)
        return Poses2D(skeleton, kp, np.ones(kp.shape[:2]), person_scores=np.ones(len(kp)))

    assert oks_ap(frames, [as_pred(f) for f in frames], skeleton)["AP"] == pytest.approx(1.0)
    assert oks_ap(frames, [as_pred(f, 0.1) for f in frames], skeleton)["AP"] < 0.8
    assert all(crowd_index(f, skeleton) >= 0 for f in frames)


def test_joints_missing_from_the_model_skeleton_count_as_misses():
    """A COCO-17 pose scored on CrowdPose-14: 12 shared joints exact, head_top/neck missing ->
    OKS = 12/14 = 0.857 -> passes thresholds 0.50 ... 0.85 (8 of 10) -> AP 0.8."""
    from crowd_perception.core.skeletons import convert_keypoints

    rng = np.random.default_rng(5)
    kp14 = rng.uniform(100, 300, size=(1, 14, 2))
    frame = _frame(kp14, [[100, 100, 300, 300]], skeleton="crowdpose14")
    kp17 = np.nan_to_num(convert_keypoints(kp14, "crowdpose14", "coco17"), nan=200.0)
    pred = Poses2D("coco17", kp17, np.ones((1, 17)), person_scores=[1.0])
    assert oks_ap([frame], [pred], skeleton="crowdpose14")["AP"] == pytest.approx(0.8)


def test_joint_spread_and_a_pose_collapsed_onto_a_vertical_line():
    rng = np.random.default_rng(0)
    boxes = np.array([[0.0, 0.0, 50.0, 100.0], [100.0, 0.0, 200.0, 400.0]])
    gt = boxes[:, None, :2] + rng.uniform(0, 1, (2, 17, 2)) * (boxes[:, None, 2:] - boxes[:, None, :2])
    mask = np.ones((2, 17), bool)
    spread = joint_spread(gt, boxes, mask)
    np.testing.assert_allclose(spread, np.nanstd(gt, axis=1) / np.array([[50.0, 100.0], [100.0, 400.0]]))
    np.testing.assert_allclose(spread_ratios(gt, gt, boxes, mask), [1.0, 1.0])
    collapsed = gt.copy()
    collapsed[..., 0] = gt[..., 0].mean(axis=1, keepdims=True) + 0.02 * (gt[..., 0] - gt[..., 0].mean(axis=1, keepdims=True))
    ratio = spread_ratios(gt, collapsed, boxes, mask)
    assert ratio[0] == pytest.approx(0.02) and ratio[1] == pytest.approx(1.0)
    assert np.isnan(joint_spread(gt, boxes, np.zeros((2, 17), bool))).all()


def test_left_right_agreement_counts_clearly_separated_pairs():
    boxes = np.array([[0.0, 0.0, 100.0, 200.0]])
    gt = np.zeros((1, 17, 2))
    for left, right in COCO17.flip_pairs:
        gt[0, left, 0], gt[0, right, 0] = 70.0, 30.0  # frontal person: left joints on the image right
    gt[0, 1, 0], gt[0, 2, 0] = 52.0, 48.0  # the eyes are too close to count
    mask = np.ones((1, 17), bool)
    assert left_right_agreement(gt, gt, boxes, mask, "coco17") == (1.0, 7)
    mirrored = gt.copy()
    mirrored[..., 0] = 100.0 - gt[..., 0]
    assert left_right_agreement(gt, mirrored, boxes, mask, "coco17") == (0.0, 7)
    stacked = gt.copy()
    stacked[..., 0] = 50.0  # left on top of right: never on the true side
    assert left_right_agreement(gt, stacked, boxes, mask, "coco17")[0] == 0.0
    fraction, count = left_right_agreement(gt, gt, boxes, np.zeros((1, 17), bool), "coco17")
    assert math.isnan(fraction) and count == 0
