"""Fixtures of the ROS adapter tests: synthetic frames, nodes on the fake rclpy, and the real ROS 2
runtime (rclpy + the generated ``crowd_perception.msg`` that scripts/setup.sh installs)."""

from __future__ import annotations

import importlib
import os
import sys

import pytest

from .samples import FakeSample, make_samples

try:
    import launch_testing  # noqa: F401
except ImportError:
    # launch_tests/ is run by `colcon test` (add_launch_test in CMakeLists.txt) in a ROS 2 workspace;
    # there is no launch_testing wheel, so plain pytest does not collect it at all
    collect_ignore_glob = ["launch_tests/*"]


@pytest.fixture
def samples() -> list[FakeSample]:
    return make_samples()


@pytest.fixture
def ros_node(monkeypatch):
    """``ros_node(module_name, class_name, runner, **parameter_overrides)``: a node on the fake rclpy."""
    from crowd_perception.ros.kit import RosbagsKit

    from . import fake_rclpy

    fake_rclpy.install(monkeypatch)

    def make(module: str, cls: str, runner, **overrides):
        node_cls = getattr(importlib.import_module(f"crowd_perception.ros.nodes.{module}"), cls)
        params = [fake_rclpy.Parameter(k, v) for k, v in overrides.items()]
        return node_cls(kit=RosbagsKit(), runner=runner, parameter_overrides=params)

    return make


def _ros2_missing() -> str | None:
    try:
        import rclpy  # noqa: F401
        from crowd_perception.msg import DetectionArray

        DetectionArray()
    except Exception as exc:  # ImportError, or a generated library that does not load
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def ros2_runtime() -> None:
    """The real rclpy and our generated messages. Without them (no scripts/setup.sh) the test is
    skipped, except in CI (``CI`` set), where scripts/setup.sh has run and their absence is a failure."""
    missing = _ros2_missing()
    if missing:
        reason = f"needs rclpy and the generated crowd_perception.msg (run scripts/setup.sh): {missing}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def rclpy_node(ros2_runtime, monkeypatch):
    """``rclpy_node(module_name, class_name, runner, **parameter_overrides)``: a node on the real rclpy.

    All nodes of one test share a fresh rclpy context (``rclpy_node.context``) on a private DDS
    domain over shared memory; they are destroyed and the context shut down after the test.
    """
    import rclpy
    from rclpy.context import Context
    from rclpy.parameter import Parameter
    from rclpy.signals import SignalHandlerOptions

    from crowd_perception.ros.graph import dds_environment, free_domain_id

    for name in [n for n in sys.modules if n.startswith("crowd_perception.ros.nodes")]:
        monkeypatch.delitem(sys.modules, name)  # a fake-rclpy test may have imported them against the fake
    domain = free_domain_id()
    for key, value in dds_environment(domain).items():
        monkeypatch.setenv(key, value)
    context = Context()
    rclpy.init(context=context, domain_id=domain, signal_handler_options=SignalHandlerOptions.NO)
    nodes = []

    def make(module: str, cls: str, runner, **overrides):
        node_cls = getattr(importlib.import_module(f"crowd_perception.ros.nodes.{module}"), cls)
        params = [Parameter(k, value=v) for k, v in overrides.items()]
        node = node_cls(runner=runner, context=context, parameter_overrides=params)
        nodes.append(node)
        return node

    make.context = context
    make.nodes = nodes
    yield make
    for node in nodes:
        node.destroy_node()
    rclpy.shutdown(context=context)
