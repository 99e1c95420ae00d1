"""Fixtures of the ROS adapter tests: synthetic frames and nodes on the fake rclpy."""

from __future__ import annotations

import pytest

from .samples import FakeSample, make_samples


@pytest.fixture
def samples() -> list[FakeSample]:
    return make_samples()


@pytest.fixture
def ros_node(monkeypatch):
    """``ros_node(module_name, class_name, runner, **parameter_overrides)``: a node on the fake rclpy."""
    import importlib

    from crowd_perception.ros.kit import RosbagsKit

    from . import fake_rclpy

    fake_rclpy.install(monkeypatch)

    def make(module: str, cls: str, runner, **overrides):
        node_cls = getattr(importlib.import_module(f"crowd_perception.ros.nodes.{module}"), cls)
        params = [fake_rclpy.Parameter(k, v) for k, v in overrides.items()]
        return node_cls(kit=RosbagsKit(), runner=runner, parameter_overrides=params)

    return make
