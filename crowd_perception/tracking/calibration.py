"""Calibrate the appearance gate: the distance at which same- and different-identity pairs are
equally likely to be misjudged (equal error rate), from labelled embeddings.

Run it on embeddings of the detector that will feed the tracker (or, for the association-only
benchmark, on the perturbation model's): a gate is only meaningful for one embedding head.
"""

from __future__ import annotations

import numpy as np

from .matching import paired_embedding_distance

__all__ = ["equal_error_threshold"]


def equal_error_threshold(
    features: np.ndarray, ids: np.ndarray, metric: str = "cosine", max_pairs: int = 200_000, seed: int = 0
) -> tuple[float, float]:
    """``(threshold, equal error rate)`` separating same-identity from different-identity pairs.

    ``features`` ``(N, D)`` unit embeddings with identities ``ids`` (negative ids are ignored).
    At most ``max_pairs`` random pairs of each kind are used.
    """
    features = np.asarray(features, dtype=np.float64)
    ids = np.asarray(ids)
    valid = ids >= 0
    features, ids = features[valid], ids[valid]
    if len(np.unique(ids)) < 2:
        raise ValueError("need embeddings of at least two identities")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(ids), 4 * max_pairs)
    j = rng.integers(0, len(ids), 4 * max_pairs)
    distinct = i != j
    i, j = i[distinct], j[distinct]
    same = ids[i] == ids[j]
    d = paired_embedding_distance(features[i], features[j], metric)
    positives, negatives = np.sort(d[same][:max_pairs]), np.sort(d[~same][:max_pairs])
    if len(positives) == 0:
        raise ValueError("no pair of embeddings shares an identity")
    candidates = np.unique(np.concatenate([positives, negatives]))
    false_reject = 1.0 - np.searchsorted(positives, candidates, side="right") / len(positives)
    false_accept = np.searchsorted(negatives, candidates, side="right") / len(negatives)
    k = int(np.argmin(np.abs(false_reject - false_accept)))
    return float(candidates[k]), float((false_reject[k] + false_accept[k]) / 2)
