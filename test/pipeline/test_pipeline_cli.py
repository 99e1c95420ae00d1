"""The pipeline's commands (``bench``, ``gpu-check``) parse as before their move out of the runtime."""

from __future__ import annotations

import pytest

from crowd_perception.cli import build_parser
from crowd_perception.pipeline.cli import COMMANDS


def test_bench_and_gpu_check_parse():
    parser = build_parser(COMMANDS)
    args = parser.parse_args(["bench", "--models", "pose2d", "--people", "1", "80", "--threads", "2"])
    assert args.models == ["pose2d"] and args.people == [1, 80] and args.threads == 2
    assert parser.parse_args(["gpu-check", "--models", "pose3d"]).models == ["pose3d"]
    with pytest.raises(SystemExit):
        parser.parse_args(["bench", "--models", "segmenter"])
