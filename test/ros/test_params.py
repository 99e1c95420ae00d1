"""Parameter specs from config dataclasses: types, ranges, choices, files."""

from __future__ import annotations

import pytest

from crowd_perception.ros.params import ParameterError, config_from_params, load_node_params, param_specs
from crowd_perception.ros.stages import DetectorConfig, TrackerNodeConfig


def test_specs_carry_defaults_types_and_constraints():
    specs = {s.name: s for s in param_specs(DetectorConfig)}
    threshold = specs["score_threshold"]
    assert (threshold.type, threshold.low, threshold.high, threshold.dynamic) == (float, 0.0, 1.0, True)
    assert specs["backend"].choices == ("onnxruntime", "tensorrt", "auto") and not specs["backend"].dynamic
    assert "read at start-up" in specs["backend"].describe()


@pytest.mark.parametrize(("name", "value", "message"), [
    ("score_threshold", 1.5, "outside"),
    ("score_threshold", "high", "expected float"),
    ("max_detections", 2.5, "expected int"),
    ("live", 1, "expected bool"),
    ("backend", "cuda", "not one of"),
    ("nonsense", 1, "unknown parameters"),
])
def test_invalid_values_are_rejected(name, value, message):
    with pytest.raises(ParameterError, match=message):
        config_from_params(DetectorConfig, {name: value})


def test_values_are_converted_and_applied_on_a_base():
    base = config_from_params(DetectorConfig, {"score_threshold": 1})  # int for a float parameter
    assert base.score_threshold == 1.0 and isinstance(base.score_threshold, float)
    changed = config_from_params(DetectorConfig, {"max_detections": 5}, base=base)
    assert (changed.score_threshold, changed.max_detections) == (1.0, 5)


def test_params_file_wildcard_then_node_section(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("/**:\n  ros__parameters:\n    qos_input_depth: 3\n    live: true\n"
                    "tracker_node:\n  ros__parameters:\n    live: false\n")
    assert load_node_params(path, "tracker_node") == {"qos_input_depth": 3, "live": False}
    assert load_node_params(path, "detector_node") == {"qos_input_depth": 3, "live": True}
    config = config_from_params(TrackerNodeConfig, load_node_params(path, "tracker_node"))
    assert config.qos_input_depth == 3 and config.live is False
