"""Start the crowd_perception nodes on one camera.

    ros2 launch crowd_perception crowd_perception.launch.py \
        image_topic:=/camera/image_raw camera_info_topic:=/camera/camera_info \
        backend:=onnxruntime nodes:=detector,pose2d,pose3d,tracker namespace:=crowd_perception

Outputs (relative to ``namespace``): detections, poses_2d, poses_3d, tracks (and debug_image,
markers with the visualizer). Parameters come from ``config`` (config/crowd_perception.yaml).
"""

from __future__ import annotations

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription

# launch name -> (executable, uses a model, remapped inputs)
NODES = {
    "detector": ("detector_node", True, ("image",)),
    "pose2d": ("occluded_pose_node", True, ("image",)),
    "pose3d": ("pose3d_node", True, ("image", "camera_info")),
    "tracker": ("tracker_node", False, ()),
    "visualizer": ("visualizer_node", False, ("image",)),
}


def _nodes(context, *args, **kwargs):
    value = lambda name: LaunchConfiguration(name).perform(context)  # noqa: E731
    chosen = [n.strip() for n in value("nodes").split(",") if n.strip()]
    unknown = sorted(set(chosen) - set(NODES))
    if unknown:
        raise ValueError(f"unknown nodes {unknown}; choose from {', '.join(NODES)}")
    sim_time = value("use_sim_time").lower() in ("true", "1")
    topics = {
        "image": value("image_topic"),
        "image/compressed": value("image_topic") + "/compressed",
        "camera_info": value("camera_info_topic"),
    }
    actions = []
    for name in chosen:
        executable, uses_model, inputs = NODES[name]
        overrides = {"use_sim_time": sim_time}
        if uses_model:
            overrides["backend"] = value("backend")
        remappings = [(k, v) for k, v in topics.items() if k.split("/")[0] in inputs]
        actions.append(Node(
            package="crowd_perception",
            executable=executable,
            name=executable,
            namespace=value("namespace"),
            parameters=[value("config"), overrides],
            remappings=remappings,
            output="screen",
        ))
    return actions


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory("crowd_perception")
    return LaunchDescription([
        DeclareLaunchArgument("image_topic", default_value="/camera/image_raw", description="sensor_msgs/Image input"),
        DeclareLaunchArgument("camera_info_topic", default_value="/camera/camera_info",
                              description="sensor_msgs/CameraInfo of the image (3D placement)"),
        DeclareLaunchArgument("backend", default_value="onnxruntime", description="onnxruntime | tensorrt | auto"),
        DeclareLaunchArgument("config", default_value=os.path.join(share, "config", "crowd_perception.yaml"),
                              description="ROS 2 params file of the nodes"),
        DeclareLaunchArgument("use_sim_time", default_value="false", description="use /clock (bag replay)"),
        DeclareLaunchArgument("nodes", default_value="detector,pose2d,pose3d,tracker",
                              description=f"comma-separated subset of: {', '.join(NODES)}"),
        DeclareLaunchArgument("namespace", default_value="crowd_perception", description="namespace of all nodes"),
        OpaqueFunction(function=_nodes),
    ])
