"""Our ``msg/*.msg`` interfaces registered in a ``rosbags`` typestore, next to the ROS 2 base types.

The same ``.msg`` files that ``rosidl_generate_interfaces`` builds under colcon are parsed here,
so bags written without ROS carry exactly the definitions ``ros2 bag play`` and Foxglove expect,
and the generated classes have the same field names as rclpy's.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

__all__ = ["PACKAGE", "DISTROS", "resource_dirs", "msg_dir", "message_files", "message_types", "typestore"]

PACKAGE = "crowd_perception"
DISTROS = {"humble": Stores.ROS2_HUMBLE, "jazzy": Stores.ROS2_JAZZY}


def resource_dirs(name: str) -> list[Path]:
    """Where the package's ``name`` folder (``msg``, ``config``) can be, in the order searched:
    the source checkout (or editable install), a colcon install (``<prefix>/share/crowd_perception``
    next to ``<prefix>/lib/pythonX.Y/site-packages``) and a pip install (setup.py ``data_files``)."""
    parents = Path(__file__).resolve().parents
    candidates = [parents[2] / name]
    if len(parents) > 5:
        candidates.append(parents[5] / "share" / PACKAGE / name)
    candidates.append(Path(sys.prefix) / "share" / PACKAGE / name)
    return candidates


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
