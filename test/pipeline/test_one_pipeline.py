"""The package composes its stages in one place: a single ``Pipeline`` class, in pipeline/pipeline.py."""

from __future__ import annotations

import re
from pathlib import Path

import crowd_perception


def test_one_pipeline_class_in_the_package():
    root = Path(crowd_perception.__file__).parent
    defining = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py")
                      if re.search(r"^class \w*Pipeline\b", p.read_text(encoding="utf-8"), re.M))
    assert defining == ["pipeline/pipeline.py"]
