"""crowd_perception: pedestrian detection, occluded 2D pose, 3D pose and tracking for ROS 2.

The package is split into a ROS-free core (``core``, ``synth``, ``formats``, ``models``,
``runtime``, ``tracking``, ``eval``) and thin rclpy adapters (``ros``). Nothing outside
``crowd_perception.ros.nodes`` imports rclpy.
"""

__version__ = "0.1.0"

# ``crowd_perception.msg`` (the generated ROS 2 interfaces) is never in this source tree. A colcon
# install generates it into the same folder as these modules; scripts/setup.sh generates it for the
# pip-installed rclpy under build/ros/ and names that folder in ``crowd_perception.pkg`` in the
# venv's site-packages, which extend_path adds to this package's path (README, "Package layout").
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
