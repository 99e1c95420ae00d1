"""Markdown tables of :mod:`.evaluate` results (for the terminal and ``docs/RESULTS.md``)."""

from __future__ import annotations

from ...utils.results import markdown_table

__all__ = ["render_report"]

_COLUMNS = (
    "AP", "AP50", "AP75", "AR", "PCK@0.1 occluded", "PCK@0.1 visible", "occlusion acc", "spread x", "spread y", "L/R sides", "people",
)


def _nan_safe(value: float) -> object:
    return "-" if value != value else value  # NaN -> "-"


def render_report(metrics: dict[str, dict], data: str, frames: int, backend: str, flip: bool) -> str:
    """One table per section: per-group metrics of every model, then the occlusion table and latency."""
    parts = [
        f"Data: `{data}`, {frames} frames, ground-truth person boxes (top-down); backend `{backend}`, "
        f"flip test {'on' if flip else 'off'}. PCK threshold: 0.1 x the longer box side. Spread x / y: median over people of the "
        "predicted joints' standard deviation in x / y (fraction of box width / height) over the ground truth's (1 = as spread "
        "out as the truth; a pose collapsed onto a vertical line has spread x near 0). L/R sides: fraction of left/right joint "
        "pairs at least 0.1 box widths apart in the truth whose predicted left joint is on the true side of the right one."
    ]
    rows = []
    for label, entry in metrics.items():
        for group, values in entry.get("frames", {}).items():
            rows.append([label, group, *(_nan_safe(values.get(c, float("nan"))) for c in _COLUMNS)])
    if rows:
        parts.append(markdown_table(["model", "group", *_COLUMNS], rows))
    tables = {label: e["occlusion_table"] for label, e in metrics.items() if "occlusion_table" in e}
    if tables:
        fractions = list(next(iter(tables.values())))
        header = ["model", *(f"{float(f):.0%} hidden" for f in fractions)]
        parts.append("Occlusion table (AP of people >= 90 % visible after hiding a fraction of their body parts):")
        parts.append(markdown_table(header, [[label, *(t[f]["AP"] for f in fractions)] for label, t in tables.items()]))
    latency = {label: e["latency_ms"] for label, e in metrics.items() if "latency_ms" in e}
    if latency:
        counts = list(next(iter(latency.values())))
        loads = ", ".join(f"{metrics[lb]['load_average']:.1f}" for lb in latency if "load_average" in metrics[lb])
        parts.append("Latency of one `estimate` call (median ms, crops + inference + decoding)"
                     + (f"; 1-minute load average of the machine when measured: {loads}" if loads else "") + ":")
        header = ["model", *(f"{n} people" for n in counts), "60 / 1"]
        parts.append(markdown_table(header, [[lb, *(t[n] for n in counts), t["60"] / t["1"] if "60" in t else "-"] for lb, t in latency.items()]))
    return "\n\n".join(parts)
