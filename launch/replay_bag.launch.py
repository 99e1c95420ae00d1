"""Replay a rosbag2 through the live nodes (sim time) and optionally record the outputs.

    ros2 launch crowd_perception replay_bag.launch.py bag:=demo_bag record:=replayed_bag

For an offline, frame-locked and bit-for-bit repeatable replay (no ROS), use
``crowd-perception replay --bag IN --out OUT`` instead: ``ros2 bag play`` runs in real time, and
the nodes in live mode skip frames when they are slower than the bag.
"""

from __future__ import annotations

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, ExecuteProcess, IncludeLaunchDescription
from launch.conditions import IfCondition
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PythonExpression

from launch import LaunchDescription

OUTPUTS = ["detections", "poses_2d", "poses_3d", "tracks"]


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory("crowd_perception")
    bag, rate, record = LaunchConfiguration("bag"), LaunchConfiguration("rate"), LaunchConfiguration("record")
    namespace = LaunchConfiguration("namespace")
    return LaunchDescription([
        DeclareLaunchArgument("bag", description="rosbag2 folder (or .mcap / .db3 file) to play"),
        DeclareLaunchArgument("rate", default_value="1.0", description="playback rate"),
        DeclareLaunchArgument("record", default_value="", description="record the outputs to this new bag folder"),
        DeclareLaunchArgument("namespace", default_value="crowd_perception"),
        DeclareLaunchArgument("nodes", default_value="detector,pose2d,pose3d,tracker"),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(os.path.join(share, "launch", "crowd_perception.launch.py")),
            launch_arguments={"use_sim_time": "true", "namespace": namespace,
                              "nodes": LaunchConfiguration("nodes")}.items(),
        ),
        ExecuteProcess(cmd=["ros2", "bag", "play", bag, "--clock", "--rate", rate], output="screen"),
        ExecuteProcess(
            cmd=["ros2", "bag", "record", "--use-sim-time", "-s", "mcap", "-o", record,
                 *[["/", namespace, "/", topic] for topic in OUTPUTS]],
            condition=IfCondition(PythonExpression(["'", record, "' != ''"])),
            output="screen",
        ),
    ])
