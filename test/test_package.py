"""The ROS 2 packaging: package.xml (format 3, validated by catkin_pkg), CMakeLists.txt and
setup.py agree with each other and with the source tree."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import crowd_perception

catkin_package = pytest.importorskip("catkin_pkg.package", reason="catkin_pkg (dev extra) validates package.xml")

ROOT = Path(__file__).resolve().parents[1]
CMAKE = (ROOT / "CMakeLists.txt").read_text()


@pytest.fixture(scope="module")
def package():
    pkg = catkin_package.parse_package(ROOT / "package.xml")
    pkg.validate()  # raises InvalidPackage on any format-3 violation
    return pkg


def _names(deps) -> set[str]:
    return {d.name for d in deps}


def test_package_xml_is_valid_format_3(package):
    assert package.package_format == 3
    assert package.name == "crowd_perception"
    assert package.get_build_type() == "ament_cmake"
    assert "rosidl_interface_packages" in {g.name for g in package.member_of_groups}


def test_versions_agree(package):
    setup_version = re.search(r'version="([^"]+)"', (ROOT / "setup.py").read_text()).group(1)
    assert package.version == setup_version == crowd_perception.__version__


def test_runtime_dependencies_of_the_nodes_are_declared(package):
    runtime = _names(package.exec_depends) | _names(package.build_export_depends)
    for dep in ("rclpy", "std_msgs", "sensor_msgs", "geometry_msgs", "visualization_msgs", "diagnostic_msgs",
                "diagnostic_updater", "ament_index_python", "launch", "launch_ros", "ros2bag",
                "rosidl_default_runtime", "python3-numpy", "python3-opencv", "python3-yaml"):
        assert dep in runtime, dep
    assert {"rosidl_default_generators", "ament_cmake"} <= _names(package.buildtool_depends)
    assert {"launch_testing", "launch_testing_ament_cmake"} <= _names(package.test_depends)


def test_cmake_generates_every_msg_file():
    listed = set(re.findall(r'"(msg/\w+\.msg)"', CMAKE))
    assert listed == {f"msg/{p.name}" for p in (ROOT / "msg").glob("*.msg")}
    # The Python package must not be installed with ament_python_install_package (rosidl_python#141),
    # and its install(DIRECTORY) must come after the generator so that our __init__.py wins.
    code = "\n".join(line.split("#")[0] for line in CMAKE.splitlines())
    assert "ament_python_install_package(" not in code
    assert code.index("rosidl_generate_interfaces(") < code.index("install(DIRECTORY crowd_perception/")


def test_cmake_message_dependencies_are_declared(package):
    deps = re.search(r"DEPENDENCIES ([\w ]+)", CMAKE).group(1).split()
    assert set(deps) <= _names(package.build_depends) & _names(package.exec_depends)


def test_every_executable_points_at_a_main():
    entries = re.findall(r'"([\w-]+):(crowd_perception[\w.]*)"', CMAKE)
    assert {name for name, _ in entries} >= {"detector_node", "occluded_pose_node", "pose3d_node", "tracker_node"}
    for name, module in entries:
        spec = importlib.util.find_spec(module)
        assert spec is not None, f"{name}: module {module} does not exist"
        source = Path(spec.origin).read_text()
        assert re.search(r"^def main\(", source, re.M), f"{name}: {module} has no main()"


def test_installed_share_folders_exist():
    for folder in re.search(r"install\(DIRECTORY ([\w ]+) DESTINATION share", CMAKE).group(1).split():
        assert (ROOT / folder).is_dir(), folder


@pytest.mark.slow
def test_the_wheel_carries_the_shipped_and_pretrained_weights(tmp_path):
    """``pip install .`` must bring the models the runtime loads by default (and the pose trunk it is built on)."""
    import subprocess
    import sys
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("crowd_perception-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "crowd_perception/weights"], check=True, capture_output=True,
                             text=True).stdout.split()
    assert tracked and set(tracked) <= names, sorted(set(tracked) - names)
