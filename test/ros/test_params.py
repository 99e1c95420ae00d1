"""Parameter specs from config dataclasses: types, ranges, choices, files."""

from __future__ import annotations

import pytest

from crowd_perception.pipeline.params import ParameterError, config_from_params, load_node_params, param_specs
from crowd_perception.pipeline.stages import DetectorNodeConfig, TrackerNodeConfig


def test_specs_carry_defaults_types_and_constraints():
    specs = {s.name: s for s in param_specs(DetectorNodeConfig)}
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
        config_from_params(DetectorNodeConfig, {name: value})


def test_values_are_converted_and_applied_on_a_base():
    base = config_from_params(DetectorNodeConfig, {"score_threshold": 1})  # int for a float parameter
    assert base.score_threshold == 1.0 and isinstance(base.score_threshold, float)
    changed = config_from_params(DetectorNodeConfig, {"max_detections": 5}, base=base)
    assert (changed.score_threshold, changed.max_detections) == (1.0, 5)


def test_params_file_wildcard_then_node_section(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("/**:\n  ros__parameters:\n    qos_input_depth: 3\n    live: true\n"
                    "tracker_node:\n  ros__parameters:\n    live: false\n")
    assert load_node_params(path, "tracker_node") == {"qos_input_depth": 3, "live": False}
    assert load_node_params(path, "detector_node") == {"qos_input_depth": 3, "live": True}
    config = config_from_params(TrackerNodeConfig, load_node_params(path, "tracker_node"))
    assert config.qos_input_depth == 3 and config.live is False


# ------------------------------------------------------------------ faults of a params file


from crowd_perception.pipeline.params import node_config_from_file, read_params_file  # noqa: E402
from crowd_perception.pipeline.stages import NODE_CONFIGS  # noqa: E402


def _file(tmp_path, text: str):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "message"), [
    ("detector_node:\n  ros__parameters:\n    - score_threshold: 0.3\n",
     "node /detector_node: ros__parameters must be a mapping of parameter names to values, got a list"),
    ("detector_node:\n  - ros__parameters: {}\n", "node /detector_node: expected a mapping with ros__parameters, got a list"),
    ("detector_node:\n  ros__parameters:\n    score_threshold: [0.3\n", "broken YAML at line"),
    ("detector_node: {ros__parameters: {a: 1}, extra: 2}\n", "unexpected key(s) extra next to ros__parameters"),
    ("detector_node:\n  ros_parameters:\n    score_threshold: 0.3\n",
     "node /detector_node: key 'ros_parameters' is not 'ros__parameters' (misspelled?)"),
    ("detector_node:\n  rosparameters:\n    score_threshold: 0.3\n", "is not 'ros__parameters'"),
    ("- detector_node\n", "expected a mapping of node names"),
    ("detector_node: 3\n", "node /detector_node: expected a mapping with ros__parameters, got a int"),
    ("detector_node: {}\n", "empty section"),
])
def test_structural_faults_are_parameter_errors_naming_file_and_node(tmp_path, text, message):
    path = _file(tmp_path, text)
    with pytest.raises(ParameterError) as info:
        node_config_from_file(DetectorNodeConfig, path, "detector_node", known_nodes=NODE_CONFIGS)
    assert str(path) in str(info.value) and message in str(info.value)


@pytest.mark.parametrize(("value", "message"), [
    (".nan", "nan is not a finite number"),
    (".inf", "inf is not a finite number"),
    ("-.inf", "-inf is not a finite number"),
    ("[0.3]", "expected float, got [0.3]"),
    ("{a: 1}", "unknown parameter(s) score_threshold.a"),
    ("'0.3'", None),  # a string of a number: ROS would refuse it, we convert (float('0.3'))
])
def test_wrong_types_and_non_finite_values_name_file_node_section_and_key(tmp_path, value, message):
    path = _file(tmp_path, f"/**/detector_node:\n  ros__parameters:\n    score_threshold: {value}\n")
    if message is None:
        assert node_config_from_file(DetectorNodeConfig, path, "detector_node").score_threshold == pytest.approx(0.3)
        return
    with pytest.raises(ParameterError) as info:
        node_config_from_file(DetectorNodeConfig, path, "detector_node", known_nodes=NODE_CONFIGS)
    text = str(info.value)
    assert text.startswith(f"{path}: node /detector_node") and "score_threshold" in text and message in text


@pytest.mark.parametrize(("cls", "name"), [(DetectorNodeConfig, "score_threshold"), (TrackerNodeConfig, "new_track_threshold"),
                                           (TrackerNodeConfig, "track_buffer_s")])
def test_nan_never_passes_the_range_check(cls, name):
    with pytest.raises(ParameterError, match="not a finite number"):
        config_from_params(cls, {name: float("nan")})


@pytest.mark.parametrize(("key", "namespace", "applies"), [
    ("/crowd_perception/detector_node", "crowd_perception", True),
    ("/crowd_perception/detector_node", "/", False),
    ("/**/detector_node", "crowd_perception", True),
    ("/**/detector_node", "/", True),
    ("/**", "a/b", True),
    ("/crowd_perception/*", "crowd_perception", True),
    ("/*/detector_node", "crowd_perception", True),
    ("/*/detector_node", "a/b", False),
    ("detector_node", "/", True),
    ("detector_node", "crowd_perception", False),  # ROS roots a key without '/': it is /detector_node
])
def test_node_names_are_matched_as_ros_matches_them(tmp_path, key, namespace, applies):
    path = _file(tmp_path, f"{key}:\n  ros__parameters:\n    score_threshold: 0.35\n")
    config = node_config_from_file(DetectorNodeConfig, path, "detector_node", namespace)
    assert (config.score_threshold == pytest.approx(0.35)) is applies


def test_nested_namespace_sections_and_file_order(tmp_path):
    path = _file(tmp_path, "crowd_perception:\n  detector_node:\n    ros__parameters:\n      score_threshold: 0.3\n"
                           "/**:\n  ros__parameters:\n    score_threshold: 0.4\n")
    assert [s.pattern for s in read_params_file(path)] == ["/crowd_perception/detector_node", "/**"]
    # later sections win, as in rclpy and rclcpp
    assert load_node_params(path, "detector_node", "crowd_perception") == {"score_threshold": 0.4}


def test_unknown_sections_are_reported(tmp_path, caplog):
    path = _file(tmp_path, "detektor_node:\n  ros__parameters:\n    score_threshold: 0.3\n")
    with pytest.raises(ParameterError, match="did you mean 'detector_node'"):
        node_config_from_file(DetectorNodeConfig, path, "detector_node", known_nodes=NODE_CONFIGS)
    path = _file(tmp_path, "camera_driver:\n  ros__parameters:\n    fps: 30\n"
                           "/elsewhere/detector_node:\n  ros__parameters:\n    score_threshold: 0.3\n")
    with caplog.at_level("WARNING"):
        config = node_config_from_file(DetectorNodeConfig, path, "detector_node", "crowd_perception",
                                       known_nodes=NODE_CONFIGS)
    assert config.score_threshold == DetectorNodeConfig().score_threshold
    assert "camera_driver names no crowd_perception node" in caplog.text
    assert "namespace '/elsewhere'" in caplog.text


def test_wildcard_sections_may_hold_other_nodes_parameters_but_not_typos(tmp_path):
    path = _file(tmp_path, "/**:\n  ros__parameters:\n    sync_capacity: 4\n    use_sim_time: true\n")
    assert node_config_from_file(DetectorNodeConfig, path, "detector_node", known_nodes=NODE_CONFIGS) == DetectorNodeConfig()
    path = _file(tmp_path, "/**:\n  ros__parameters:\n    sync_capasity: 4\n")
    with pytest.raises(ParameterError, match=r"unknown parameter\(s\) sync_capasity \(section /\*\*\)"):
        node_config_from_file(DetectorNodeConfig, path, "detector_node", known_nodes=NODE_CONFIGS)
    path = _file(tmp_path, "/**/detector_node:\n  ros__parameters:\n    sync_capacity: 4\n")
    with pytest.raises(ParameterError, match="sync_capacity"):  # the node's own section: a real mistake
        node_config_from_file(DetectorNodeConfig, path, "detector_node", known_nodes=NODE_CONFIGS)


def test_replay_cli_reports_a_broken_params_file_in_one_line(tmp_path, capsys):
    from crowd_perception.cli import main

    bag = tmp_path / "bag"
    bag.mkdir()
    path = _file(tmp_path, "/**/tracker_node:\n  ros__parameters: [1, 2]\n")
    assert main(["replay", "--bag", str(bag), "--out", str(tmp_path / "out"), "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == (f"error: {path}: node /**/tracker_node: ros__parameters must be a mapping of "
                   "parameter names to values, got a list\n")
