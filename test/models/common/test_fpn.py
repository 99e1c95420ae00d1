"""FPN: one output per level with the declared strides; P6/P7 halve the resolution; gradients flow."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from crowd_perception.models.common import FPN  # noqa: E402


@pytest.mark.parametrize(("extra", "lite"), [(0, True), (2, False)])
def test_fpn_levels(extra: int, lite: bool) -> None:
    fpn = FPN((8, 16, 24), channels=16, extra_levels=extra, lite=lite)
    features = [torch.randn(2, 8, 16, 24), torch.randn(2, 16, 8, 12), torch.randn(2, 24, 4, 6)]
    outputs = fpn(features)
    assert fpn.strides == (8, 16, 32, 64, 128)[: 3 + extra]
    assert len(outputs) == 3 + extra
    expected = [(16, 24), (8, 12), (4, 6), (2, 3), (1, 2)]
    for out, hw in zip(outputs, expected, strict=False):
        assert out.shape == (2, 16, *hw)
    sum(o.sum() for o in outputs).backward()
    assert all(p.grad is not None for p in fpn.parameters() if p.requires_grad)


def test_top_down_path_reaches_fine_level() -> None:
    fpn = FPN((4, 4, 4), channels=8).eval()
    base = [torch.zeros(1, 4, 8, 8), torch.zeros(1, 4, 4, 4), torch.zeros(1, 4, 2, 2)]
    changed = [base[0], base[1], torch.ones(1, 4, 2, 2)]
    with torch.no_grad():
        assert not torch.allclose(fpn(base)[0], fpn(changed)[0])


def test_bad_extra_levels() -> None:
    with pytest.raises(ValueError):
        FPN((4, 4, 4), 8, extra_levels=3)
