import numpy as np
import pytest

from crowd_perception.models.pose2d.decode import argmax_2d, decode_heatmaps
from crowd_perception.models.pose2d.targets import gaussian_heatmaps


def test_argmax():
    maps = np.zeros((2, 3, 5, 4), np.float32)
    maps[1, 2, 4, 1] = 0.7
    loc, val = argmax_2d(maps)
    assert loc.shape == (2, 3, 2)
    np.testing.assert_array_equal(loc[1, 2], [1, 4])
    assert val[1, 2] == pytest.approx(0.7)


def test_dark_recovers_subpixel_gaussian_peaks():
    rng = np.random.default_rng(1)
    truth = rng.uniform([6, 6], [17, 25], size=(6, 17, 2))  # peaks away from the border
    maps = np.stack([gaussian_heatmaps(p[None], (32, 24), sigma=2.0) for p in truth])
    dark, peaks = decode_heatmaps(maps, "dark", sigma=2.0)
    plain, _ = decode_heatmaps(maps, "none")
    quarter, _ = decode_heatmaps(maps, "quarter")
    err = lambda p: np.abs(p - truth).mean()  # noqa: E731
    assert np.abs(dark - truth).max() < 1e-3  # DARK is exact on Gaussian peaks
    assert err(quarter) < err(plain) and err(plain) > 0.1
    assert peaks.min() > 0.75


def test_unknown_refinement_raises():
    with pytest.raises(ValueError, match="refinement"):
        decode_heatmaps(np.zeros((1, 4, 4)), "bogus")
