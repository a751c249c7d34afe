"""Writing results: one CSV row per (clip, system), and a Markdown table of means per system."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from muse_fx.evaluation.metrics import Metric


def write_csv(path: Path, rows: Sequence[dict], metrics: Sequence[Metric]) -> None:
    """Columns: clip, system, then one per metric."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, ["clip", "system", *(m.name for m in metrics)])
        writer.writeheader()
        writer.writerows(rows)


def _aggregate(values: list[float], metric: Metric) -> float:
    """Mean (or total) over the clips where the metric applies: a 16 kHz clip has no 16–22 kHz band."""
    kept = [v for v in values if not np.isnan(v)]
    if not kept:
        return float("nan")
    return float(np.sum(kept) if metric.summed else np.mean(kept))


def summarise(rows: Sequence[dict], metrics: Sequence[Metric]) -> dict[str, dict[str, float]]:
    """{system: {metric: mean (or total) over clips, "clips": count}}, systems in first-seen order."""
    by_system: dict[str, list[dict]] = {}
    for row in rows:
        by_system.setdefault(row["system"], []).append(row)
    return {
        system: {m.name: _aggregate([r[m.name] for r in group], m) for m in metrics} | {"clips": len(group)}
        for system, group in by_system.items()
    }


def _cell(value: float, metric: Metric) -> str:
    if np.isnan(value):
        return "—"
    return f"{value:.0f}" if metric.summed else f"{value:.3f}"


def markdown_table(summary: dict[str, dict[str, float]], metrics: Sequence[Metric]) -> str:
    """Mean per system per metric; ↓/↑ in each header says which way is better."""
    header = ["system", "clips", *(f"{m.label} {'↑' if m.higher_is_better else '↓'}" for m in metrics)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for system, means in summary.items():
        cells = [system, str(means["clips"]), *(_cell(means[m.name], m) for m in metrics)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
