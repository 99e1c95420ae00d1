"""The unit every area's ``cli`` module declares its subcommands in, kept at the bottom of the
package so that each area can describe its commands while :mod:`crowd_perception.cli` (the top)
imports the areas to build the parser."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Command"]


@dataclass(frozen=True)
class Command:
    """One subcommand: its words, help line, argument declaration and entry point.

    ``run`` receives the parsed namespace and returns the process exit code.
    """

    path: tuple[str, ...]
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
