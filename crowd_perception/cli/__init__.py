"""The ``crowd-perception`` command line.

Each area of the package declares its subcommands as ``COMMANDS``, a list of :class:`Command`
in its own ``cli`` module, imported by :func:`_commands` below (the top of the package: it may
import every area, and it hands the synth area the ros area's bag writer, the 2D pose trainer the
detector boxes and bag reader of its unlabeled frames); multi-word commands
(``train detector``, ``evaluate tracking``) become nested sub-parsers. Those modules must import
heavy dependencies (torch, onnxruntime) inside ``run`` so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import __version__
from ..core.errors import CrowdPerceptionError, one_line
from ..utils.commands import Command

if TYPE_CHECKING:
    from ..models.pose2d.unlabeled import UnlabeledReaders
    from ..synth.export import BagWriter

__all__ = ["Command", "build_parser", "main"]


def _synthetic_bag_writer() -> BagWriter:
    """The rosbag2 writer of ``synth --formats bag`` (imported only when a bag is written)."""
    from ..ros.bag import write_synthetic_bag

    return write_synthetic_bag


def _unlabeled_readers() -> UnlabeledReaders:
    """Detector boxes and bag images of ``train pose --data images:DIR,bag:PATH`` (imported only when trained)."""
    from ..ros.unlabeled import unlabeled_readers

    return unlabeled_readers()


def _commands() -> list[Command]:
    """Every area's subcommands."""
    from ..models import cli as models_cli
    from ..models.common import cli as common_cli
    from ..models.detector import cli as detector_cli
    from ..models.pose2d import cli as pose2d_cli
    from ..models.pose3d import cli as pose3d_cli
    from ..pipeline import cli as pipeline_cli
    from ..ros import cli as ros_cli
    from ..synth import cli as synth_cli
    from ..tracking import cli as tracking_cli
    from . import probe

    return [
        *synth_cli.commands(bag_writer=_synthetic_bag_writer),
        *models_cli.COMMANDS,
        *common_cli.COMMANDS,
        *detector_cli.COMMANDS,
        *pose2d_cli.commands(unlabeled=_unlabeled_readers),
        *pose3d_cli.COMMANDS,
        *tracking_cli.COMMANDS,
        *pipeline_cli.COMMANDS,
        *ros_cli.COMMANDS,
        *probe.COMMANDS,
    ]


def build_parser(commands: Sequence[Command] | None = None) -> argparse.ArgumentParser:
    """The full argument parser (nested sub-parsers for multi-word commands)."""
    parser = argparse.ArgumentParser(
        prog="crowd-perception", description="Pedestrian detection, occluded pose, 3D pose and tracking."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--debug", action="store_true",
                        help="debug logging, and a traceback with every error (not only with bugs)")
    groups: dict[tuple[str, ...], argparse._SubParsersAction] = {(): parser.add_subparsers(dest="command")}
    parsers: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    leaves: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for command in sorted(commands if commands is not None else _commands(), key=lambda c: c.path):
        for depth in range(1, len(command.path)):
            prefix = command.path[:depth]
            if prefix not in groups:
                # a command may also head a group (``evaluate --bag OUT`` next to ``evaluate pose``)
                group_parser = leaves.get(prefix) or groups[prefix[:-1]].add_parser(
                    prefix[-1], help=f"{prefix[-1]} subcommands"
                )
                parsers[prefix] = group_parser
                groups[prefix] = group_parser.add_subparsers(dest="_".join(prefix), required=prefix not in leaves)
        leaf = groups[command.path[:-1]].add_parser(command.path[-1], help=command.help, description=command.help)
        command.add_arguments(leaf)
        if "--debug" not in leaf._option_string_actions:  # also after the command's words
            leaf.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                              help="traceback with every error (not only with bugs)")
        leaf.set_defaults(_run=command.run)
        leaves[command.path] = leaf
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every named error (:class:`CrowdPerceptionError`) and every file-system error
    on a user-given path is printed as one line, ``error: <message>``, with exit code 1.

    Any other exception is a bug: it keeps its traceback. ``--debug`` shows the traceback of named
    errors too (and enables debug logging).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    logging.basicConfig(
        level=logging.DEBUG if args.verbose or debug else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    if not hasattr(args, "_run"):
        parser.print_help()
        return 2
    try:
        return int(args._run(args))
    except (CrowdPerceptionError, OSError) as exc:  # a user's input, named in the message: one line
        if debug:
            traceback.print_exc()
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # commands that end with SystemExit("message")
        if isinstance(exc.code, str):
            print(f"error: {one_line(Exception(exc.code))}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
