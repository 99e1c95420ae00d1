"""``crowd-perception synth | synth-bench | synth-sheet | synth-stats``: generate datasets, time generation,
draw a contact sheet, summarise what the splits contain.

:func:`commands` takes the rosbag2 writer for ``synth --formats bag`` as a factory from the command
line, which owns both areas (synth sits below ros)."""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..utils.commands import Command

if TYPE_CHECKING:  # the module generates images; the command line only imports it to run ``synth``
    from .export import BagWriterFactory

log = logging.getLogger(__name__)


def _synth_arguments(parser: argparse.ArgumentParser) -> None:
    from .presets import PRESETS

    parser.add_argument("--preset", required=True, choices=sorted(PRESETS), help="named split to generate")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same data)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--formats", nargs="+", required=True,
                        help="coco crowdpose crowdhuman citypersons jta mot bag bag-sqlite3 (what is installed)")
    parser.add_argument("--image-ext", choices=[".jpg", ".png"], default=".jpg", help="image files of file formats")
    parser.add_argument("--size", type=int, nargs=2, metavar=("W", "H"), help="override the image size")
    parser.add_argument("--sequences", type=int, help="only the first N sequences of every group")
    parser.add_argument("--frames", type=int, help="override frames per sequence")
    parser.add_argument("--fps", type=float, help="override the frame rate")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _run_synth(args: argparse.Namespace, bag_writer: BagWriterFactory | None = None) -> int:
    from .export import export
    from .presets import get_preset

    config = get_preset(args.preset)
    if args.size:
        config = config.with_image_size(*args.size)
    if args.fps:
        config = replace(config, fps=args.fps)
    if args.sequences or args.frames:
        groups = tuple(replace(s, count=min(s.count, args.sequences or s.count), frames=args.frames or s.frames)
                       for s in config.sequences)
        config = replace(config, sequences=groups)
    try:
        outputs = export(config, args.seed, args.out, args.formats, image_ext=args.image_ext,
                         progress=not args.no_progress, bag_writer=bag_writer)
    except (ValueError, FileExistsError) as error:
        log.error("%s", error)
        return 2
    for name, path in outputs.items():
        print(f"{name}: {path}")
    return 0


def _bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=50, help="frames timed per sequence (every sequence of a density)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per row; the fastest counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-results", action="store_true", help="print only, do not update docs/RESULTS.md")


def _run_bench(args: argparse.Namespace) -> int:
    from ..utils.results import update_results_section
    from .bench import load_description, measure_demo, measure_throughput, pin_to_one_core, results_markdown

    pinning = pin_to_one_core()
    load = load_description()
    rows = measure_throughput(frames=args.frames, seed=args.seed, repeats=args.repeats)
    rows.append(measure_demo(args.seed, repeats=args.repeats))
    body = results_markdown(rows, pinning, load, args.repeats)
    print(body)
    if not args.no_results:
        path = update_results_section("synth-throughput", "Synthetic data generation throughput", body)
        print(f"updated {path}")
    return 0


def _sheet_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("docs/contact_sheet.png"), help="PNG to write")
    parser.add_argument("--seed", type=int, default=0)


def _run_sheet(args: argparse.Namespace) -> int:
    from .sheet import write_contact_sheet

    path = write_contact_sheet(args.out, seed=args.seed)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


def _stats_arguments(parser: argparse.ArgumentParser) -> None:
    from .presets import PRESETS

    parser.add_argument("--presets", nargs="+", choices=sorted(PRESETS), default=["val_a", "val_b", "bench"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-frames", type=int, default=400, help="frames summarised per preset (bench has 400)")
    parser.add_argument("--no-results", action="store_true", help="print only, do not update docs/RESULTS.md")


def _run_stats(args: argparse.Namespace) -> int:
    from ..utils.results import update_results_section
    from .presets import get_preset
    from .stats import split_statistics, statistics_markdown

    rows = [split_statistics(get_preset(name), args.seed, args.max_frames) for name in args.presets]
    body = statistics_markdown(rows)
    print(body)
    if not args.no_results:
        print(f"updated {update_results_section('synth-dataset', 'Synthetic data: what the splits contain', body)}")
    return 0


def commands(bag_writer: BagWriterFactory | None = None) -> list[Command]:
    """The synth area's commands; ``bag_writer`` makes ``synth --formats bag`` available."""
    return [
        Command(("synth",), "generate a synthetic split in dataset formats / rosbag2", _synth_arguments,
                partial(_run_synth, bag_writer=bag_writer)),
        Command(("synth-bench",), "measure synthetic generation throughput on one core", _bench_arguments, _run_bench),
        Command(("synth-sheet",), "draw generated frames with their ground truth (contact sheet)", _sheet_arguments,
                _run_sheet),
        Command(("synth-stats",), "summarise the ground truth of synthetic presets", _stats_arguments, _run_stats),
    ]
