"""The rclpy nodes: thin adapters over :mod:`crowd_perception.pipeline.stages` (the only rclpy importers)."""
