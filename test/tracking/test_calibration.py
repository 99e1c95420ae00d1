"""Equal-error-rate calibration of the appearance gate."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.tracking.calibration import equal_error_threshold


def test_threshold_separates_two_identities():
    rng = np.random.default_rng(0)
    protos = np.eye(4)[:2]
    feats = np.repeat(protos, 50, axis=0) + rng.normal(0, 0.1, (100, 4))
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    ids = np.repeat([0, 1], 50)
    threshold, eer = equal_error_threshold(feats, ids, "cosine", max_pairs=2000)
    assert eer == 0.0
    same = 1 - np.sum(feats[:50, None] * feats[None, :50], -1)
    different = 1 - feats[:50] @ feats[50:].T
    assert same.max() <= threshold < different.min()


def test_needs_two_identities():
    with pytest.raises(ValueError, match="two identities"):
        equal_error_threshold(np.eye(3), np.array([1, 1, -1]))
