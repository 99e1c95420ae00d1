"""The rclpy nodes: thin adapters over :mod:`crowd_perception.ros.stages` (the only rclpy importers)."""
