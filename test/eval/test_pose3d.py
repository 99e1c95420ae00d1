import numpy as np
import pytest

from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations
from crowd_perception.core.skeletons import BODY22
from crowd_perception.core.types import Poses3D
from crowd_perception.eval.pose3d import Pose3DEvaluator, match_detections, voc_ap

K = BODY22.num_joints


def test_voc_ap_toy_values():
    assert voc_ap([0.9, 0.8], [True, True], 2) == pytest.approx(1.0)
    # TP, FP, TP over 2 GT: precision envelope 1 up to recall .5, 2/3 up to recall 1
    assert voc_ap([0.9, 0.8, 0.7], [True, False, True], 2) == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert voc_ap([0.9], [True], 4) == pytest.approx(0.25)
    assert np.isnan(voc_ap([], [], 0))


def test_match_detections_greedy_by_score_with_ignored_ground_truth():
    gt = np.array([[0, 0, 10, 10], [100, 100, 110, 110]], dtype=float)
    valid = np.array([True, False])
    pred = np.array([[0, 0, 10, 10], [0, 0, 10, 9], [100, 100, 110, 110], [50, 50, 60, 60]], dtype=float)
    status, gt_match = match_detections(pred, np.array([0.5, 0.9, 0.8, 0.7]), gt, valid)
    np.testing.assert_array_equal(status, [0, 1, -1, 0])  # the higher-scored near-duplicate wins
    np.testing.assert_array_equal(gt_match, [1, -1])


def _person(root, rng):
    joints = rng.normal(size=(K, 3)) * 0.2
    joints -= joints[0]
    return joints + np.asarray(root)


def test_toy_scene_metrics():
    rng = np.random.default_rng(0)
    roots = [(0, 0, 5.0), (2, 0, 15.0), (-2, 0, 25.0)]
    gt_joints = np.stack([_person(r, rng) for r in roots])
    boxes = np.array([[0, 0, 10, 20], [30, 0, 40, 20], [60, 0, 70, 20]], dtype=float)
    ann = FrameAnnotation(
        "toy", 100, 40, PersonAnnotations("body22", boxes, joints_3d=gt_joints, distances=np.array([5.0, 15.0, 25.0]))
    )
    # person 0: exact; person 1: every joint off by 100 mm along x, root by 1 m; person 2: missed; plus one FP.
    pred_rel = gt_joints[:2] - gt_joints[:2, :1]
    pred_rel[1, 1:] += [0.1, 0, 0]
    pred_cam = gt_joints[:2].copy()
    pred_cam[1] += [0, 0, 1.0]
    poses = Poses3D(
        "body22",
        np.concatenate([pred_rel, np.zeros((1, K, 3))]),
        joints_camera=np.concatenate([pred_cam, np.zeros((1, K, 3))]),
        boxes=np.concatenate([boxes[:2], [[80, 0, 90, 20]]]),
        person_scores=np.array([0.9, 0.8, 0.1]),
    )
    ev = Pose3DEvaluator()
    ev.add(ann, poses)
    s = ev.summary()
    assert s["ap"] == pytest.approx(2 / 3)
    assert s["recall"] == pytest.approx(2 / 3)
    assert s["mpjpe_mm"] == pytest.approx(50.0)  # mean of 0 and 100 over detected people
    assert s["pck"] == pytest.approx(2 / 3)  # 100 mm < 150 mm for two people, the missed one all wrong
    assert s["mpjpe_mm/<10 m"] == pytest.approx(0.0, abs=1e-2) and s["mpjpe_mm/10-20 m"] == pytest.approx(100.0)
    assert s["pck/20-30 m"] == 0.0 and np.isnan(s["mpjpe_mm/20-30 m"]) and s["count/>40 m"] == 0
    assert s["root_error_m"] == pytest.approx(0.5) and s["root_error_median_m"] == pytest.approx(0.5)
    assert s["mpjpe_mm/knees"] == pytest.approx(50.0) and s["pck/head"] == pytest.approx(2 / 3)


def test_invisible_people_are_ignored_and_skeleton_checked():
    rng = np.random.default_rng(1)
    joints = np.stack([_person((0, 0, 10), rng)])
    ann = FrameAnnotation(
        "t", 50, 50, PersonAnnotations("body22", [[0, 0, 10, 20]], joints_3d=joints, visible_fractions=[0.02])
    )
    ev = Pose3DEvaluator()
    ev.add(ann, Poses3D("body22", joints - joints[:, :1], boxes=[[0, 0, 10, 20]], person_scores=[0.9]))
    s = ev.summary()
    assert s["num_gt"] == 0 and np.isnan(s["ap"])
    with pytest.raises(ValueError, match="skeleton"):
        ev.add(ann, Poses3D.empty("coco17"))


def test_pose_metrics_use_the_operating_threshold_but_ap_ranks_everything():
    rng = np.random.default_rng(2)
    joints = np.stack([_person((0, 0, 10), rng), _person((3, 0, 10), rng)])
    boxes = np.array([[0, 0, 10, 20], [30, 0, 40, 20]], dtype=float)
    ann = FrameAnnotation("t", 50, 50, PersonAnnotations("body22", boxes, joints_3d=joints))
    poses = Poses3D("body22", joints - joints[:, :1], joints_camera=joints, boxes=boxes, person_scores=[0.9, 0.1])
    ev = Pose3DEvaluator(operating_threshold=0.5)
    ev.add(ann, poses)
    s = ev.summary()
    assert s["ap"] == pytest.approx(1.0) and s["recall"] == pytest.approx(0.5) and s["pck"] == pytest.approx(0.5)
    strict = Pose3DEvaluator(operating_threshold=0.95)  # nothing at the operating point
    strict.add(ann, poses)
    s = strict.summary()
    assert s["ap"] == pytest.approx(1.0) and s["recall"] == 0.0 and s["pck"] == 0.0 and np.isnan(s["mpjpe_mm"])
