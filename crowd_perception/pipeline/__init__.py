"""The perception pipeline without ROS: each node's stage, its node-facing config (the node's
parameters), and :class:`Pipeline`, which runs the stages in order in one process for the offline
replay, the demo and the benchmarks. The rclpy nodes in :mod:`crowd_perception.ros.nodes` are thin
adapters over the same stages."""

from .pipeline import MODEL_STAGES, STAGES, FrameOutputs, Pipeline, default_config_path

__all__ = ["STAGES", "MODEL_STAGES", "FrameOutputs", "Pipeline", "default_config_path"]
