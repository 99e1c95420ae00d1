"""crowd_perception: pedestrian detection, occluded 2D pose, 3D pose and tracking for ROS 2.

The package is split into a ROS-free core (``core``, ``synth``, ``formats``, ``models``,
``runtime``, ``tracking``, ``eval``) and thin rclpy adapters (``ros``). Nothing outside
``crowd_perception.ros.nodes`` imports rclpy.
"""

__version__ = "0.1.0"
