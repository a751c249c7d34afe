"""Writing results: one CSV row per (clip, system), a Markdown table of means per system, and the tonal balance
(figures per system, the curve per band)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from muse_fx.evaluation.metrics import Metric
from muse_fx.evaluation.tonal import BalanceFigures


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
    """Mean per system per metric; ↓/↑/→0 in each header says which way is better."""
    header = ["system", "clips", *(f"{m.label} {m.arrow}" for m in metrics)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for system, means in summary.items():
        cells = [system, str(means["clips"]), *(_cell(means[m.name], m) for m in metrics)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _signed_db(value: float) -> str:
    return "—" if np.isnan(value) else f"{value:+.1f}"


def _db(value: float) -> str:
    return "—" if np.isnan(value) else f"{value:.2f}"


def _khz(hz: float) -> str:
    return "—" if np.isnan(hz) else f"{hz / 1000:.2f}"


def balance_table(figures: dict[str, BalanceFigures], boundaries_hz: Sequence[float]) -> str:
    """Per system: mean |deviation| above 1 kHz, the largest step between neighbouring bands and where, and the
    step across each internal boundary (dB)."""
    header = [
        "system",
        "deviation above 1 kHz (dB) ↓",
        "largest step (dB)",
        "at (kHz)",
        *(f"step at {_khz(hz)} kHz (dB)" for hz in boundaries_hz),
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for system, f in figures.items():
        steps = [_signed_db(f.boundary_steps[hz]) for hz in boundaries_hz]
        cells = [system, _db(f.deviation), _signed_db(f.largest_step), _khz(f.largest_step_hz), *steps]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def band_table(curves: dict[str, np.ndarray], edges_hz: np.ndarray) -> str:
    """One row per band (Hz) that some clip reaches, one column per system: the mean balance in dB."""
    lines = ["| band (Hz) | " + " | ".join(curves) + " |", "|" + "---|" * (len(curves) + 1)]
    for band, (low, high) in enumerate(zip(edges_hz[:-1], edges_hz[1:])):
        if all(np.isnan(curve[band]) for curve in curves.values()):
            continue
        cells = [f"{low:.0f}–{high:.0f}", *(_signed_db(curve[band]) for curve in curves.values())]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_balance_csv(path: Path, curves: dict[str, np.ndarray], edges_hz: np.ndarray) -> None:
    """Columns: low_hz, high_hz, then one per system (dB, empty where no clip reaches the band)."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["low_hz", "high_hz", *curves])
        for band, (low, high) in enumerate(zip(edges_hz[:-1], edges_hz[1:])):
            values = ["" if np.isnan(c[band]) else f"{c[band]:.3f}" for c in curves.values()]
            writer.writerow([f"{low:.1f}", f"{high:.1f}", *values])
