"""Our ``msg/*.msg`` interfaces registered in a ``rosbags`` typestore, next to the ROS 2 base types.

The same ``.msg`` files that ``rosidl_generate_interfaces`` builds under colcon are parsed here,
so bags written without ROS carry exactly the definitions ``ros2 bag play`` and Foxglove expect,
and the generated classes have the same field names as rclpy's.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from ..utils.resources import PACKAGE, resource_dirs

__all__ = ["PACKAGE", "DISTROS", "resource_dirs", "msg_dir", "message_files", "message_types", "typestore"]

DISTROS = {"humble": Stores.ROS2_HUMBLE, "jazzy": Stores.ROS2_JAZZY}


def msg_dir() -> Path:
    """The folder holding our ``.msg`` files."""
    for candidate in resource_dirs("msg"):
        if any(candidate.glob("*.msg")):
            return candidate
    searched = ", ".join(str(c) for c in resource_dirs("msg"))
    raise FileNotFoundError(f"crowd_perception .msg files not found (searched {searched})")


def message_files() -> dict[str, Path]:
    """``{"crowd_perception/msg/Name": path}`` for every ``.msg`` file."""
    return {f"{PACKAGE}/msg/{path.stem}": path for path in sorted(msg_dir().glob("*.msg"))}


def message_types() -> dict:
    """Our message definitions parsed by rosbags (a ``Typesdict``)."""
    types: dict = {}
    for name, path in message_files().items():
        types.update(get_types_from_msg(path.read_text(encoding="utf-8"), name))
    return types


@cache
def typestore(distro: str = "jazzy") -> Typestore:
    """A typestore with the base types of ROS 2 ``distro`` ("humble" or "jazzy") plus ours."""
    if distro not in DISTROS:
        raise ValueError(f"unknown ROS 2 distro {distro!r}; expected one of {sorted(DISTROS)}")
    store = get_typestore(DISTROS[distro])
    store.register(message_types())
    return store
