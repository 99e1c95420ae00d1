"""Launch and config files, checked without ROS: the launch files are valid Python naming real
executables and parameters; the params file validates against the node config dataclasses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from crowd_perception.pipeline.params import config_from_params, load_node_params, param_specs
from crowd_perception.pipeline.stages import NODE_CONFIGS

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "crowd_perception.yaml"


@pytest.mark.parametrize("node", sorted(NODE_CONFIGS))
def test_params_file_validates_and_documents_every_parameter(node):
    params = load_node_params(CONFIG, node)
    config = config_from_params(NODE_CONFIGS[node], params)  # raises on unknown names / bad values
    assert {s.name for s in param_specs(NODE_CONFIGS[node])} <= set(params), "every parameter is in the file"
    assert config is not None


def test_tracker_sees_every_frame_and_detector_runs_live():
    assert load_node_params(CONFIG, "tracker_node")["live"] is False
    assert load_node_params(CONFIG, "detector_node")["live"] is True


def test_launch_files_parse_and_name_installed_executables():
    cmake = (ROOT / "CMakeLists.txt").read_text()
    executables = set(re.findall(r'"([\w-]+):crowd_perception', cmake))
    main = ast.parse((ROOT / "launch" / "crowd_perception.launch.py").read_text())
    nodes = next(n for n in main.body if isinstance(n, ast.Assign) and n.targets[0].id == "NODES")
    launched = {v.elts[0].value for v in nodes.value.values}
    assert launched <= executables and launched >= {"detector_node", "occluded_pose_node", "pose3d_node",
                                                     "tracker_node"}
    replay = (ROOT / "launch" / "replay_bag.launch.py").read_text()
    ast.parse(replay)
    assert "crowd_perception.launch.py" in replay and '"--clock"' in replay


def test_launch_arguments_documented():
    text = (ROOT / "launch" / "crowd_perception.launch.py").read_text()
    for arg in ("image_topic", "camera_info_topic", "backend", "config", "use_sim_time", "nodes", "namespace"):
        assert f'DeclareLaunchArgument("{arg}"' in text


def test_unknown_parameter_in_a_file_is_an_error(tmp_path):
    from crowd_perception.pipeline.params import ParameterError
    from crowd_perception.pipeline.stages import DetectorNodeConfig

    bad = tmp_path / "bad.yaml"
    bad.write_text("detector_node:\n  ros__parameters:\n    score_treshold: 0.5\n")
    with pytest.raises(ParameterError, match="score_treshold"):
        config_from_params(DetectorNodeConfig, load_node_params(bad, "detector_node"))
