"""Detection metrics: a hand-computed toy case for MR^-2 / AP / recall, the matching rules (ignore
regions by IoA, duplicates, subsets, height slack), the embedding TPR@FAR, plots, and the real
CrowdHuman and CityPersons fixtures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crowd_perception.core.annotations import FrameAnnotation, PersonAnnotations
from crowd_perception.core.types import Detections
from crowd_perception.eval.detection import (
    SUBSETS,
    accumulate,
    embedding_tpr_at_far,
    evaluate_detections,
    gt_for_subset,
    match_image,
    plot_curves,
)


def _frame(boxes, ignore_regions=(), vis=None, image_id="x") -> FrameAnnotation:
    persons = PersonAnnotations("body22", np.array(boxes, dtype=np.float32).reshape(-1, 4), visible_fractions=vis)
    return FrameAnnotation(image_id, 200, 200, persons, ignore_regions=np.array(ignore_regions).reshape(-1, 4))


def _toy():
    anns = [
        _frame([[0, 0, 10, 20], [20, 0, 30, 20]], ignore_regions=[[50, 0, 100, 50]]),
        _frame([[0, 0, 10, 20]]),
    ]
    dets = [
        Detections([[0, 0, 10, 20], [60, 10, 70, 30], [40, 40, 45, 45], [21, 0, 31, 20]], [0.9, 0.8, 0.7, 0.6]),
        Detections([[100, 100, 110, 120]], [0.85]),
    ]
    return dets, anns


def test_toy_case_by_hand() -> None:
    dets, anns = _toy()
    m = evaluate_detections(dets, anns)
    # pooled (ignored detection dropped): 0.9 TP, 0.85 FP, 0.7 FP, 0.6 TP; 3 people, 2 images
    np.testing.assert_allclose(m.fppi, [0, 0.5, 1, 1])
    np.testing.assert_allclose(m.miss_rate, [2 / 3, 2 / 3, 2 / 3, 1 / 3])
    # FPPI refs 1e-2 .. 10^-0.25 see miss rate 2/3, only the ref 1.0 reaches the last TP (1/3)
    assert m.mr2 == pytest.approx(math.exp((8 * math.log(2 / 3) + math.log(1 / 3)) / 9))
    # precision envelope 1 up to recall 1/3, then 0.5 up to 2/3
    assert m.ap == pytest.approx(1 / 3 + 0.5 / 3)
    assert m.recall == pytest.approx(2 / 3)
    assert (m.num_gt, m.num_det, m.num_images) == (3, 4, 2)


def test_operating_points_on_the_toy_case() -> None:
    """Scores 0.9 TP, 0.85 FP, 0.7 FP, 0.6 TP (the 0.8 one lies on an ignore region and counts as neither)."""
    m = evaluate_detections(*_toy())
    np.testing.assert_allclose(m.score_curve, [0.9, 0.85, 0.7, 0.6])
    assert m.at_threshold(0.95) == {"threshold": 0.95, "det_per_image": 0.0, "fp_per_image": 0.0, "recall": 0.0}
    point = m.at_threshold(0.85)  # inclusive: 0.9 and 0.85 kept
    assert point["det_per_image"] == 1.0 and point["fp_per_image"] == 0.5 and point["recall"] == pytest.approx(1 / 3)
    point = m.at_threshold(0.0)
    assert point["det_per_image"] == 2.0 and point["fp_per_image"] == 1.0 and point["recall"] == pytest.approx(2 / 3)


def test_perfect_and_empty() -> None:
    _, anns = _toy()
    perfect = [Detections(a.persons.boxes, np.ones(len(a.persons))) for a in anns]
    m = evaluate_detections(perfect, anns)
    assert m.mr2 == pytest.approx(1e-10) and m.ap == pytest.approx(1.0) and m.recall == 1.0
    none = evaluate_detections([Detections.empty(), Detections.empty()], anns)
    assert none.mr2 == 1.0 and none.ap == 0.0 and none.recall == 0.0


def test_duplicates_are_false_positives_and_best_iou_wins() -> None:
    gt = np.array([[0, 0, 10, 20], [4, 0, 14, 20]], dtype=float)
    dets = np.array([[4, 0, 14, 20], [4, 0, 14, 20], [0, 0, 10, 20]], dtype=float)
    m = match_image(dets, [0.9, 0.8, 0.7], gt, [False, False])
    assert m.tp.tolist() == [True, False, True] and m.num_gt == 2


def test_ignore_regions_use_intersection_over_detection() -> None:
    region = [[0, 0, 100, 100]]
    small = [[10, 10, 20, 30]]  # IoU with the region 0.02, but entirely inside it
    m = match_image(small, [0.5], region, [True])
    assert m.ignored.tolist() == [True] and not m.tp.any() and m.num_gt == 0
    many = match_image(small * 3, [0.5, 0.4, 0.3], region, [True])
    assert many.ignored.all()


def test_people_are_matched_before_ignore_regions() -> None:
    gt = [[0, 0, 10, 20], [0, 0, 100, 100]]
    m = match_image([[0, 0, 10, 20]], [0.9], gt, [False, True])
    assert m.tp.tolist() == [True] and not m.ignored.any()


def test_citypersons_subsets() -> None:
    ann = _frame([[0, 0, 20, 60], [30, 0, 50, 40], [60, 0, 80, 60], [90, 0, 110, 60]], vis=[0.9, 0.9, 0.5, 0.1])
    _, ignore = gt_for_subset(ann, SUBSETS["reasonable"])
    assert ignore.tolist() == [False, True, True, True]
    _, ignore = gt_for_subset(ann, SUBSETS["heavy"])
    assert ignore.tolist() == [True, True, False, True]
    _, ignore = gt_for_subset(_frame([[0, 0, 1, 1]], vis=[0.0]), SUBSETS["all"])
    assert ignore.tolist() == [True]  # nothing of this person is visible
    # an unmatched detection much smaller than the subset's range is ignored, not a false positive
    m = evaluate_detections([Detections([[0, 0, 20, 60], [150, 0, 160, 30]], [0.9, 0.8])], [ann], "reasonable")
    assert m.num_det == 1 and m.ap == pytest.approx(1.0)


def test_embedding_tpr_at_far() -> None:
    e = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [1, 1]], dtype=float)
    ids = np.array([0, 0, 1, 1, -1])
    assert embedding_tpr_at_far(e, ids, far=0.1) == 1.0  # same-id pairs are the most similar
    assert embedding_tpr_at_far(-e[[0, 2, 1, 3]], np.array([0, 0, 1, 1])) == 0.0  # same-id pairs orthogonal
    with pytest.raises(ValueError):
        embedding_tpr_at_far(e[:2], ids[:2])


def test_plots(tmp_path) -> None:
    dets, anns = _toy()
    paths = plot_curves({"toy": evaluate_detections(dets, anns)}, tmp_path)
    assert all(p.stat().st_size > 1000 for p in paths)


def test_plot_names_are_safe_for_any_data_string(tmp_path) -> None:
    dets, anns = _toy()
    curves = {"toy": evaluate_detections(dets, anns)}
    # what `evaluate detection --plots DIR --data mot:/abs/path` passes
    paths = plot_curves(curves, tmp_path, prefix="detection_mot_/abs/path with spaces/..")
    assert [p.name for p in paths] == ["detection_mot_abs_path_with_spaces_mr_fppi.png",
                                       "detection_mot_abs_path_with_spaces_pr.png"]
    assert all(p.parent == tmp_path and p.is_file() for p in paths)


def test_accumulate_nothing() -> None:
    assert accumulate([]).mr2 == 1.0


def test_crowdhuman_fixture(fixtures_dir) -> None:
    from crowd_perception.formats import read_dataset

    data = read_dataset("crowdhuman", fixtures_dir / "crowdhuman" / "test_annotation_train.odgt")
    anns = [item.annotation for item in data]
    assert sum(len(a.ignore_regions) for a in anns) >= 1
    gt = [Detections(a.persons.boxes, np.linspace(1, 0.5, len(a.persons))) for a in anns]
    m = evaluate_detections(gt, anns)
    assert m.num_gt == sum(len(a.persons) for a in anns) and m.recall == 1.0 and m.ap == pytest.approx(1.0)
    # boxes shifted down by 60 % of their height overlap their person with IoU 0.25: all missed
    h = gt[0].boxes[:, 3:4] - gt[0].boxes[:, 1:2]
    shifted = [Detections(gt[0].boxes + 0.6 * h * np.array([0, 1, 0, 1], dtype=np.float32), gt[0].scores)]
    assert evaluate_detections(shifted, anns).recall == 0.0


def test_citypersons_fixture(fixtures_dir) -> None:
    from crowd_perception.formats import read_dataset

    data = read_dataset("citypersons", fixtures_dir / "citypersons" / "val_gt.json")
    anns = [data[i].annotation for i in range(40)]
    rng = np.random.default_rng(0)
    gt = [Detections(a.persons.boxes, rng.uniform(0.5, 1, len(a.persons))) for a in anns]
    for subset in ("reasonable", "heavy", "all"):
        m = evaluate_detections(gt, anns, subset)
        assert m.recall == 1.0 and m.mr2 < 1e-6
    # dropping every other detection misses about half of the reasonable people
    half = [d.select(np.arange(len(d)) % 2 == 0) for d in gt]
    m = evaluate_detections(half, anns, "reasonable")
    assert 0.3 < m.recall < 0.7 and m.mr2 > 0.3
