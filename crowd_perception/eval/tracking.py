"""Tracking metrics (HOTA, CLEAR MOT, IDF1) of MOTChallenge files, computed by TrackEval itself.

We do not re-implement any metric: :func:`evaluate_mot` points TrackEval's
``MotChallenge2DBox`` dataset at a ground-truth folder (``<seq>/gt/gt.txt`` + ``seqinfo.ini``)
and a results folder (``<seq>.txt``), runs ``HOTA``, ``CLEAR`` and ``Identity`` and reports the
numbers exactly as TrackEval's summary does (ratios in percent: ``100 * value``, averaged over
the localisation thresholds for HOTA's arrays; counts as integers), without rounding.

The benchmark decides TrackEval's preprocessing: ``MOT15`` ground truth has no class column and
is used as is; ``MOT16/17/20`` ground truth (9 columns) drops distractor classes and zero-marked
rows. ``"auto"`` picks ``MOT17`` when every ground-truth file has 9 columns, else ``MOT15``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import EvaluationError
from ..formats.dataset import FormatError
from ..formats.mot import find_sequences, read_mot_rows, read_seqinfo

__all__ = ["SUMMARY_FIELDS", "TrackingReport", "evaluate_mot", "format_table"]

_LOG = logging.getLogger(__name__)

# (TrackEval metric, field) reported, in table order.
SUMMARY_FIELDS: tuple[tuple[str, str], ...] = (
    ("HOTA", "HOTA"),
    ("HOTA", "DetA"),
    ("HOTA", "AssA"),
    ("HOTA", "LocA"),
    ("CLEAR", "MOTA"),
    ("CLEAR", "MOTP"),
    ("Identity", "IDF1"),
    ("Identity", "IDP"),
    ("Identity", "IDR"),
    ("CLEAR", "IDSW"),
    ("CLEAR", "Frag"),
    ("CLEAR", "CLR_FP"),
    ("CLEAR", "CLR_FN"),
    ("CLEAR", "MT"),
    ("CLEAR", "ML"),
    ("Count", "GT_IDs"),
    ("Count", "IDs"),
)


@dataclass
class TrackingReport:
    """Metrics per sequence and combined (``"COMBINED"``), named by their TrackEval field names."""

    gt: str
    pred: str
    benchmark: str
    sequences: dict[str, dict[str, float]] = field(default_factory=dict)
    combined: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def _benchmark(seq_dirs: list[Path]) -> str:
    """``MOT17`` when every gt file has the 9-column MOT16+ layout, else ``MOT15``."""
    for seq in seq_dirs:
        with open(seq / "gt" / "gt.txt", encoding="utf-8") as f:
            first = next((line for line in f if line.strip()), "")
        if first and len(first.replace(",", " ").split()) != 9:
            return "MOT15"
    return "MOT17"


def _results_dir(pred: Path, names: list[str]) -> Path:
    """The folder holding ``<seq>.txt``: ``pred`` itself or its ``data/`` subfolder (TrackEval layout)."""
    for candidate in (pred, pred / "data"):
        if all((candidate / f"{name}.txt").is_file() for name in names):
            return candidate
    missing = [n for n in names if not (pred / f"{n}.txt").is_file()]
    raise FileNotFoundError(f"{pred}: no results file for sequence(s) {', '.join(missing)} (expected <seq>.txt)")


def _check_files(seq_dirs: list[Path], names: list[str], results: Path) -> None:
    """Read every ground-truth and results file first, so that a faulty row is a FormatError naming
    ``file:line`` (NaN/inf or negative-size boxes, short rows, ...) rather than an error deep inside
    TrackEval; frames past ``seqLength`` are refused here too."""
    for seq, name in zip(seq_dirs, names, strict=True):
        length = read_seqinfo(seq / "seqinfo.ini").seq_length
        for path in (seq / "gt" / "gt.txt", results / f"{name}.txt"):
            rows = read_mot_rows(path, min_columns=7)  # TrackEval reads the 7th column (mark / confidence)
            if len(rows) and rows.frames.max() > length:
                raise FormatError(f"{path}: frame {rows.frames.max()} is beyond seqLength {length} of {seq}")
        pred = read_mot_rows(results / f"{name}.txt", min_columns=7)
        pairs = np.sort(np.stack([pred.frames, pred.ids], axis=1).view([("f", np.int64), ("i", np.int64)]), axis=0)
        twice = np.flatnonzero(pairs[1:] == pairs[:-1])
        if len(twice):
            frame, track = pairs[twice[0]][0]
            raise FormatError(f"{results / f'{name}.txt'}: id {track} occurs twice in frame {frame}")


def _value(metric: str, name: str, res: dict) -> float:
    """One field the way TrackEval's summary computes it (before its 5-digit formatting)."""
    value = res[metric][name]
    if metric == "Count" or name in ("IDSW", "Frag", "CLR_FP", "CLR_FN", "MT", "ML"):
        return int(value)
    return float(100 * np.mean(value))


def evaluate_mot(gt: str | Path, pred: str | Path, benchmark: str = "auto") -> TrackingReport:
    """Evaluate the results in ``pred`` against the ground truth in ``gt`` with TrackEval."""
    import trackeval  # heavy, and an optional dependency (extras "eval")

    gt, pred = Path(gt), Path(pred)
    seq_dirs = find_sequences(gt)
    names = [read_seqinfo(s / "seqinfo.ini").name for s in seq_dirs]
    for seq, name in zip(seq_dirs, names, strict=True):
        if seq.name != name:
            raise ValueError(f"{seq}: folder name differs from seqinfo name {name!r} (TrackEval needs them equal)")
    results = _results_dir(pred, names)
    _check_files(seq_dirs, names, results)
    benchmark = _benchmark(seq_dirs) if benchmark == "auto" else benchmark
    with tempfile.TemporaryDirectory() as out:
        dataset_config = {
            "GT_FOLDER": str(seq_dirs[0].parent),
            "TRACKERS_FOLDER": str(results.parent),
            "TRACKERS_TO_EVAL": [results.name],
            "TRACKER_SUB_FOLDER": "",
            "OUTPUT_FOLDER": out,
            "BENCHMARK": benchmark,
            "SKIP_SPLIT_FOL": True,
            "SEQ_INFO": dict.fromkeys(names),
            "PRINT_CONFIG": False,
        }
        eval_config = {
            "USE_PARALLEL": False,
            "PRINT_RESULTS": False,
            "PRINT_CONFIG": False,
            "TIME_PROGRESS": False,
            "OUTPUT_SUMMARY": False,
            "OUTPUT_DETAILED": False,
            "PLOT_CURVES": False,
            "LOG_ON_ERROR": None,
        }
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stdout):
            try:
                dataset = trackeval.datasets.MotChallenge2DBox(dataset_config)
                evaluator = trackeval.Evaluator(eval_config)
                metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR(), trackeval.metrics.Identity()]
                output, messages = evaluator.evaluate([dataset], metrics)
            except trackeval.utils.TrackEvalException as error:
                raise EvaluationError(f"TrackEval refused {results}: {error}") from None
        _LOG.debug("TrackEval output:\n%s", stdout.getvalue())
    status = messages["MotChallenge2DBox"][results.name]
    if status != "Success":
        raise EvaluationError(f"TrackEval failed on {results}: {status}")
    per_seq = output["MotChallenge2DBox"][results.name]
    report = TrackingReport(str(gt), str(pred), benchmark)
    for seq, by_class in per_seq.items():
        row = {name: _value(metric, name, by_class["pedestrian"]) for metric, name in SUMMARY_FIELDS}
        if seq == "COMBINED_SEQ":
            report.combined = row
        else:
            report.sequences[seq] = row
    return report


def format_table(report: TrackingReport) -> str:
    """A plain-text table, one row per sequence plus the combined row (TrackEval's 5 digits)."""
    header = ["sequence"] + [name for _, name in SUMMARY_FIELDS]
    rows = [[seq] + [_cell(v) for v in values.values()] for seq, values in sorted(report.sequences.items())]
    rows.append(["COMBINED"] + [_cell(v) for v in report.combined.values()])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in [header, *rows]
    ]
    return f"benchmark preprocessing: {report.benchmark}\n" + "\n".join(lines)


def _cell(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:1.5g}"
