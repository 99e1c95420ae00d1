"""Config dataclasses: JSON round trip (nested, tuples, optionals) and command-line overrides."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from crowd_perception.training.config import (
    TrainConfig,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_config,
    save_config,
)


@dataclass
class _Model:
    backbone: str = "compact"
    strides: tuple[int, ...] = (8, 16, 32)
    size: tuple[int, int] = (320, 576)
    width: float | None = None


@dataclass
class _Full:
    model: _Model = field(default_factory=_Model)
    train: TrainConfig = field(default_factory=TrainConfig)


def test_round_trip(tmp_path) -> None:
    cfg = _Full(_Model(strides=(8, 16), width=0.5), TrainConfig(steps=7))
    assert config_from_dict(_Full, config_to_dict(cfg)) == cfg
    save_config(cfg, tmp_path / "c.json")
    assert load_config(_Full, tmp_path / "c.json") == cfg


def test_overrides_parse_types() -> None:
    cfg = apply_overrides(_Full(), ["train.lr=0.01", "model.strides=[4, 8]", "model.width=2", "train.amp=false"])
    assert cfg.train.lr == 0.01 and isinstance(cfg.train.lr, float)
    assert cfg.model.strides == (4, 8)
    assert cfg.model.width == 2.0 and isinstance(cfg.model.width, float)
    assert cfg.train.amp is False


@pytest.mark.parametrize("bad", ["train.nope=1", "train.lr", "nothing.lr=1"])
def test_bad_overrides(bad: str) -> None:
    with pytest.raises(ValueError):
        apply_overrides(_Full(), [bad])


def test_unknown_field_in_file() -> None:
    with pytest.raises(ValueError, match="unknown"):
        config_from_dict(_Full, {"model": {"depth": 3}})
