"""Training logs: a CSV file (always), TensorBoard (when installed and asked for), a tqdm bar on rank 0."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from pathlib import Path

from tqdm import tqdm

__all__ = ["MetricLogger", "progress", "training_rows", "wall_minutes"]

_log = logging.getLogger(__name__)


class MetricLogger:
    """Appends ``{name: value}`` rows, keyed by step, to ``<out_dir>/log.csv`` (and TensorBoard).

    New columns may appear later (e.g. evaluation metrics): the file is rewritten with the wider
    header, earlier rows get empty cells. Resumed runs append to the existing file.
    """

    def __init__(self, out_dir: Path | str, tensorboard: bool = False, filename: str = "log.csv") -> None:
        self.path = Path(out_dir) / filename
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rows: list[dict[str, object]] = []
        if self.path.exists():
            with self.path.open(newline="", encoding="utf-8") as f:
                self.rows = list(csv.DictReader(f))
        self.columns: list[str] = list(self.rows[0]) if self.rows else ["step"]
        self.writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(self.path.parent / "tensorboard"))
            except ImportError:
                _log.warning("tensorboard is not installed; logging to %s only", self.path)

    def log(self, step: int, values: dict[str, float]) -> None:
        row: dict[str, object] = {"step": step, **values}
        self.rows.append(row)
        new = [k for k in row if k not in self.columns]
        if new or not self.path.exists():
            self.columns += new
            with self.path.open("w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, self.columns)
                w.writeheader()
                w.writerows(self.rows)
        else:
            with self.path.open("a", newline="", encoding="utf-8") as f:
                csv.DictWriter(f, self.columns).writerow(row)
        if self.writer is not None:
            for k, v in values.items():
                self.writer.add_scalar(k, v, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def progress(iterable: Iterable, total: int | None = None, enabled: bool = True, **kwargs) -> tqdm:
    """A ``tqdm`` bar over ``iterable`` (silent when not ``enabled``, e.g. on ranks other than 0)."""
    return tqdm(iterable, total=total, disable=not enabled, dynamic_ncols=True, **kwargs)


def training_rows(log_csv: Path | str) -> list[dict[str, str]]:
    """The training rows (those with a ``loss``) of a run's ``log.csv``, over all its resumes."""
    with Path(log_csv).open(newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r.get("loss")]


def wall_minutes(rows: Iterable[dict[str, str]]) -> float:
    """Wall-clock minutes of a run over all its resumes: ``elapsed_s`` restarts at each ``--resume``,
    so the run's time is the sum of each segment's last value."""
    total, previous = 0.0, 0.0
    for row in rows:
        elapsed = float(row.get("elapsed_s") or 0.0)
        if elapsed < previous:  # a resumed segment starts
            total += previous
        previous = elapsed
    return (total + previous) / 60
