"""ROS 2 side of the package: message typestore, core <-> message conversions, rosbag2 I/O,
node scaffolding and (in ``nodes``, the only place that imports rclpy) the node adapters."""
