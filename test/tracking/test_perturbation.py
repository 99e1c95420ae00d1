"""The seeded perturbation model that turns ground truth into detections."""

from __future__ import annotations

import numpy as np

from crowd_perception.tracking.perturbation import DetectionPerturbation, PerturbationConfig

BOXES = np.array([[100, 100, 140, 200], [300, 120, 350, 240], [600, 80, 660, 230]], dtype=float)
IDS = np.array([7, 8, 9])


def test_same_seed_same_detections():
    a = DetectionPerturbation(seed=3)(BOXES, IDS, np.ones(3), 1920, 1080)
    b = DetectionPerturbation(seed=3)(BOXES, IDS, np.ones(3), 1920, 1080)
    np.testing.assert_array_equal(a[0].boxes, b[0].boxes)
    np.testing.assert_array_equal(a[0].embeddings, b[0].embeddings)
    np.testing.assert_array_equal(a[1], b[1])


def test_misses_false_positives_and_visibility():
    config = PerturbationConfig(miss_rate=0.2, occlusion_miss=0.0, false_positives=2.0)
    perturb = DetectionPerturbation(config, seed=0)
    sources = np.concatenate([perturb(BOXES, IDS, np.array([1.0, 1.0, 0.05]), 1920, 1080)[1] for _ in range(2000)])
    found = np.bincount(sources[sources >= 0], minlength=10)
    assert abs(found[7] / 2000 - 0.8) < 0.03 and abs(found[8] / 2000 - 0.8) < 0.03
    assert found[9] == 0  # below min_visible: never detected
    assert abs(np.sum(sources == -1) / 2000 - 2.0) < 0.1


def test_embeddings_are_unit_and_identify_people():
    perturb = DetectionPerturbation(seed=1)
    dets, sources = perturb(np.repeat(BOXES, 40, axis=0), np.repeat(IDS, 40), None, 1920, 1080)
    emb = dets.embeddings[sources >= 0]
    ids = sources[sources >= 0]
    np.testing.assert_allclose(np.linalg.norm(dets.embeddings, axis=1), 1, atol=1e-5)
    sim = emb @ emb.T
    same = ids[:, None] == ids[None, :]
    off_diagonal = ~np.eye(len(ids), dtype=bool)
    assert sim[same & off_diagonal].mean() > sim[~same].mean() + 0.2
    # the prototype depends on (seed, identity) only
    np.testing.assert_allclose(perturb.prototype(8), DetectionPerturbation(seed=1).prototype(8))
    assert not np.allclose(perturb.prototype(8), DetectionPerturbation(seed=2).prototype(8))


def test_occluded_people_score_lower():
    perturb = DetectionPerturbation(PerturbationConfig(miss_rate=0, occlusion_miss=0, false_positives=0), seed=0)
    boxes, ids = np.repeat(BOXES[:1], 500, axis=0), np.arange(500)
    visible = perturb(boxes, ids, np.ones(500), 1920, 1080)[0].scores
    occluded = perturb(boxes, ids, np.full(500, 0.3), 1920, 1080)[0].scores
    assert visible.mean() > 0.85 and occluded.mean() < 0.55
