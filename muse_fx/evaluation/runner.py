"""The evaluation loop: every system on every clip, scored against the clean reference, written to `out`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from muse_fx.evaluation.clips import METRIC_RATE, Clip, file_rate, load_mono, to_metric_rate
from muse_fx.evaluation.metrics import Metric, score_pair, unit_norm
from muse_fx.evaluation.report import markdown_table, summarise, write_csv
from muse_fx.evaluation.systems import OURS, System
from muse_fx.plot import save_spectrograms

FIGURE_PANELS = ("input", "clean", *OURS, "paper")  # before/after: what goes in, the goal, ours, the paper's


def evaluate_clip(
    clip: Clip, systems: dict[str, System | None], metrics: Sequence[Metric], step: Callable[[str], None]
) -> tuple[dict[str, np.ndarray], list[dict]]:
    """({"clean" and each system: (samples,) signal at 16 kHz}, CSV rows). Systems run at the pair's own rate (the
    clean's); the paper's metrics score 16 kHz copies, the full-band ones the pair itself. A `None` system is read
    from the clip's folder and skipped for clips that lack it; `step(system)` is called after each system."""
    rate = file_rate(clip.clean)
    degraded, clean = load_mono(clip.degraded, rate), load_mono(clip.clean, rate)
    paper = [m for m in metrics if not m.full_band]
    full_band = [m for m in metrics if m.full_band]
    signals, rows = {"clean": to_metric_rate(clean, rate)}, []
    for name, system in systems.items():
        if system is not None:
            output = np.asarray(system(degraded, rate), dtype=np.float64)
        elif name in clip.systems:
            output = load_mono(clip.systems[name], rate)
        else:
            step(name)
            continue
        signals[name] = to_metric_rate(output, rate)
        scores = score_pair(signals["clean"], signals[name], METRIC_RATE, paper) | score_pair(
            clean, output, rate, full_band
        )
        rows.append({"clip": clip.id, "system": name} | scores)
        step(name)
    return signals, rows


def run(
    clips: Sequence[Clip],
    systems: dict[str, System | None],
    metrics: Sequence[Metric],
    out: Path,
    step: Callable[[str], None] = lambda name: None,
) -> str:
    """Evaluate, write `clips.csv`, `summary.md` and `spectrograms/<clip>.png` under `out`; returns the table."""
    figures = out / "spectrograms"
    figures.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    for clip in clips:
        signals, clip_rows = evaluate_clip(clip, systems, metrics, step)
        rows += clip_rows
        # Unit-norm copies, as scored: the panels then differ in spectral shape, not in level.
        panels = {k: unit_norm(signals[k]) for k in FIGURE_PANELS if k in signals}
        save_spectrograms(panels, METRIC_RATE, figures / f"{clip.id}.png", title=clip.id)
    write_csv(out / "clips.csv", rows, metrics)
    table = markdown_table(summarise(rows, metrics), metrics)
    (out / "summary.md").write_text(table)
    return table
