"""The launch file and the graph the ros2_graph tests run describe the same nodes (no ROS needed).

``launch`` and ``launch_ros`` have no wheels, so the launch file's own ``generate_launch_description``
and node factory run here on minimal stand-ins for the four launch classes they use; every node
they would start must be the command line :func:`crowd_perception.ros.graph.node_command` gives
(executable, node name, namespace, params file, overrides, remappings), and every executable must
be what CMakeLists.txt installs.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import types
from pathlib import Path

import pytest

from crowd_perception.ros import graph

ROOT = Path(__file__).resolve().parents[2]
LAUNCH = ROOT / "launch" / "crowd_perception.launch.py"


class _Config:
    def __init__(self, name: str) -> None:
        self.name = name

    def perform(self, context: dict) -> str:
        return context[self.name]


class _Recorded:
    def __init__(self, *args, **kwargs) -> None:
        self.args, self.kwargs = args, kwargs


@pytest.fixture
def launch_module(monkeypatch):
    stand_ins = {
        "launch": types.ModuleType("launch"),
        "launch.actions": types.ModuleType("launch.actions"),
        "launch.substitutions": types.ModuleType("launch.substitutions"),
        "launch_ros": types.ModuleType("launch_ros"),
        "launch_ros.actions": types.ModuleType("launch_ros.actions"),
        "ament_index_python": types.ModuleType("ament_index_python"),
        "ament_index_python.packages": types.ModuleType("ament_index_python.packages"),
    }
    stand_ins["launch"].LaunchDescription = lambda actions: list(actions)
    stand_ins["launch.actions"].DeclareLaunchArgument = _Recorded
    stand_ins["launch.actions"].OpaqueFunction = _Recorded
    stand_ins["launch.substitutions"].LaunchConfiguration = _Config
    stand_ins["launch_ros.actions"].Node = _Recorded
    stand_ins["ament_index_python.packages"].get_package_share_directory = lambda package: str(ROOT)
    for name, module in stand_ins.items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location("crowd_perception_launch", LAUNCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _launched_nodes(module, **arguments) -> list[_Recorded]:
    actions = module.generate_launch_description()
    context = {a.args[0]: a.kwargs.get("default_value") for a in actions if a.args}
    context.update(arguments)
    (factory,) = [a for a in actions if "function" in a.kwargs]
    return factory.kwargs["function"](context)


def _parsed(command: list[str]) -> dict:
    assert command[1:3] == ["-m", command[2]] and command[3] == "--ros-args"
    out: dict = {"module": command[2], "params_files": [], "remaps": {}}
    args = command[4:]
    for flag, value in zip(args[::2], args[1::2], strict=True):
        key, _, val = value.partition(":=")
        if flag == "--params-file":
            out["params_files"].append(value)
        elif key in ("__node", "__ns"):
            out[key] = val
        else:
            out["remaps"][key] = val
    return out


def test_graph_tables_are_the_launch_file_and_cmake_ones():
    tree = ast.parse(LAUNCH.read_text())
    nodes = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "NODES")
    assert ast.literal_eval(nodes.value) == graph.LAUNCH_NODES
    installed = dict(re.findall(r'"([\w-]+):(crowd_perception[\w.]*)"', (ROOT / "CMakeLists.txt").read_text()))
    assert {k: v for k, v in installed.items() if k in graph.EXECUTABLES} == graph.EXECUTABLES
    # the installed launchers run their module as `python -m <module>` does, which is how the graph starts them
    assert 'runpy.run_module(\\"${exe_module}\\", run_name=\\"__main__\\"' in (ROOT / "CMakeLists.txt").read_text()
    for module in graph.EXECUTABLES.values():
        assert 'if __name__ == "__main__"' in (ROOT / (module.replace(".", "/") + ".py")).read_text()


@pytest.mark.parametrize("arguments", [
    {},
    {"nodes": "detector,tracker", "namespace": "cam_left", "backend": "auto", "image_topic": "/left/image",
     "camera_info_topic": "/left/info"},
])
def test_launch_file_starts_the_command_lines_the_graph_runs(launch_module, arguments):
    launched = _launched_nodes(launch_module, **arguments)
    context = {a.args[0]: a.kwargs.get("default_value") for a in launch_module.generate_launch_description() if a.args}
    context.update(arguments)
    assert context["config"] == str(ROOT / "config" / "crowd_perception.yaml")
    names = [n.strip() for n in context["nodes"].split(",")]
    assert [n.kwargs["executable"] for n in launched] == [graph.LAUNCH_NODES[n][0] for n in names]
    for name, node in zip(names, launched, strict=True):
        ours = _parsed(graph.node_command(name, config=context["config"], overrides_file="o.yaml",
                                          namespace=context["namespace"], image_topic=context["image_topic"],
                                          camera_info_topic=context["camera_info_topic"]))
        config, overrides = node.kwargs["parameters"]
        assert ours["module"] == graph.EXECUTABLES[node.kwargs["executable"]]
        assert ours["__node"] == node.kwargs["name"] == node.kwargs["executable"]
        assert ours["__ns"] == "/" + node.kwargs["namespace"]
        assert ours["params_files"] == [config, "o.yaml"]  # the overrides after the params file, as launch_ros
        assert graph.node_overrides(name, backend=context["backend"]) == overrides
        assert ours["remaps"] == dict(node.kwargs["remappings"])


def test_graph_overrides_and_unknown_nodes():
    overrides = graph.node_overrides("tracker", parameters={"attach_poses_2d": False})
    assert overrides == {"use_sim_time": False, "attach_poses_2d": False}  # no backend: the tracker has no model
    assert graph.overrides_params("tracker", "/crowd_perception", overrides) == {
        "/crowd_perception/tracker_node": {"ros__parameters": overrides}}  # keyed by the node: beats /**/tracker_node
    command = _parsed(graph.node_command("tracker", config="c.yaml", overrides_file="o.yaml"))
    assert command["params_files"] == ["c.yaml", "o.yaml"] and command["remaps"] == {}
    g = graph.NodeGraph(["detector", "tracker"], config="c.yaml", domain_id=7)
    assert g.parameters["tracker"] == {"attach_poses_2d": False, "attach_poses_3d": False}  # no pose nodes to wait for
    assert g.environment["ROS_DOMAIN_ID"] == "7" and g.environment["FASTDDS_BUILTIN_TRANSPORTS"] == "SHM"
    g.cleanup()
    with pytest.raises(ValueError, match="unknown nodes"):
        graph.NodeGraph(["segmenter"])


def test_overrides_win_over_the_params_files_node_sections_in_rcl(ros2_runtime, tmp_path):
    """rcl itself: the shipped file's /**/tracker_node section sets attach_poses_2d: true, the override false."""
    import rclpy
    import yaml
    from rclpy.context import Context

    config = ROOT / "config" / "crowd_perception.yaml"
    assert yaml.safe_load(config.read_text())["/**/tracker_node"]["ros__parameters"]["attach_poses_2d"] is True
    overrides = tmp_path / "o.yaml"
    overrides.write_text(yaml.safe_dump(graph.overrides_params(
        "tracker", "crowd_perception", graph.node_overrides("tracker", parameters={"attach_poses_2d": False}))))
    command = graph.node_command("tracker", config=config, overrides_file=overrides)
    context = Context()
    rclpy.init(args=["tracker_node", *command[command.index("--ros-args"):]], context=context)
    try:
        node = rclpy.create_node("tracker_node", context=context)
        node.declare_parameter("attach_poses_2d", True)
        node.declare_parameter("qos_input_depth", 5)
        assert node.get_parameter("attach_poses_2d").value is False  # the override
        assert node.get_parameter("qos_input_depth").value == 20  # the file's node section still applies
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
