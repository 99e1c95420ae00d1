"""Where the package's data folders (``msg``, ``config``, ``launch``) are, in source and installed trees.

ROS-free, so the pipeline finds the nodes' params file without the ROS side of the package.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["PACKAGE", "resource_dirs"]

PACKAGE = "crowd_perception"


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
