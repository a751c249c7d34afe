"""The evaluation loop: every system on every clip, scored against the clean reference, written to `out`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from muse_fx.evaluation import tonal
from muse_fx.evaluation.clips import METRIC_RATE, Clip, file_rate, load_mono, to_metric_rate
from muse_fx.evaluation.criteria import Evidence, criteria_table
from muse_fx.evaluation.metrics import Metric, score_pair, unit_norm
from muse_fx.evaluation.report import (
    balance_table,
    band_table,
    markdown_table,
    summarise,
    write_balance_csv,
    write_csv,
)
from muse_fx.evaluation.systems import OURS, System
from muse_fx.plot import save_balance, save_spectrograms

FIGURE_PANELS = ("input", "clean", *OURS, "paper")  # before/after: what goes in, the goal, ours, the paper's


@dataclass(frozen=True)
class Setup:
    """How a run is scored. `boundaries_hz`: internal band boundaries made tonal balance band edges, each step across
    them reported; `no_harm`: every system is given the clean as its input; `criteria`: a rule set of
    criteria.CRITERIA, judged for `candidate` against the input and `references`."""

    boundaries_hz: tuple[float, ...] = ()
    no_harm: bool = False
    criteria: str | None = None
    candidate: str = ""
    references: tuple[str, ...] = ()

    @cached_property
    def edges_hz(self) -> np.ndarray:
        return tonal.band_edges(self.boundaries_hz)


PLAIN = Setup()


@dataclass
class ClipScores:
    """One clip: {"clean" and each system: (samples,) signal at 16 kHz}, CSV rows, {system: (bands,) balance dB}."""

    signals: dict[str, np.ndarray]
    rows: list[dict]
    balances: dict[str, np.ndarray]


def evaluate_clip(
    clip: Clip,
    systems: dict[str, System | None],
    metrics: Sequence[Metric],
    step: Callable[[str], None],
    setup: Setup,
) -> ClipScores:
    """Systems run at the pair's own rate (the clean's); the paper's metrics score 16 kHz copies, the full-band ones
    and the tonal balance the pair itself. A `None` system is read from the clip's folder and skipped for clips
    that lack it; `step(system)` is called after each system."""
    rate = file_rate(clip.clean)
    clean = load_mono(clip.clean, rate)
    degraded = clean if setup.no_harm else load_mono(clip.degraded, rate)
    paper = [m for m in metrics if not m.full_band]
    full_band = [m for m in metrics if m.full_band]
    scores = ClipScores({"clean": to_metric_rate(clean, rate)}, [], {})
    for name, system in systems.items():
        if system is not None:
            output = np.asarray(system(degraded, rate), dtype=np.float64)
        elif name in clip.systems:
            output = load_mono(clip.systems[name], rate)
        else:
            step(name)
            continue
        scores.signals[name] = to_metric_rate(output, rate)
        values = score_pair(scores.signals["clean"], scores.signals[name], METRIC_RATE, paper) | score_pair(
            clean, output, rate, full_band
        )
        scores.rows.append({"clip": clip.id, "system": name} | values)
        n = min(len(clean), len(output))
        scores.balances[name] = tonal.balance(clean[:n], output[:n], rate, setup.edges_hz)
        step(name)
    return scores


def run(
    clips: Sequence[Clip],
    systems: dict[str, System | None],
    metrics: Sequence[Metric],
    out: Path,
    step: Callable[[str], None] = lambda name: None,
    setup: Setup = PLAIN,
) -> str:
    """Evaluate; write `clips.csv`, `summary.md`, `tonal_balance.csv`, `tonal_balance.png` and
    `spectrograms/<clip>.png` under `out`. Returns what to print: the tables, without the per-band one."""
    figures = out / "spectrograms"
    figures.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    balances: dict[str, list[np.ndarray]] = {}
    for clip in clips:
        scores = evaluate_clip(clip, systems, metrics, step, setup)
        rows += scores.rows
        for name, curve in scores.balances.items():
            balances.setdefault(name, []).append(curve)
        # Unit-norm copies, as scored: the panels then differ in spectral shape, not in level.
        panels = {k: unit_norm(scores.signals[k]) for k in FIGURE_PANELS if k in scores.signals}
        save_spectrograms(panels, METRIC_RATE, figures / f"{clip.id}.png", title=clip.id)
    write_csv(out / "clips.csv", rows, metrics)
    summary = summarise(rows, metrics)
    curves = {name: tonal.mean_balance(c) for name, c in balances.items()}
    balance = {name: tonal.figures(c, setup.edges_hz, setup.boundaries_hz) for name, c in curves.items()}
    write_balance_csv(out / "tonal_balance.csv", curves, setup.edges_hz)
    save_balance(
        curves,
        setup.edges_hz,
        list(setup.boundaries_hz),
        out / "tonal_balance.png",
        title=f"long-term spectrum minus the clean's, mean over {len(clips)} clips",
    )
    printed = [
        *(["No harm: every system was given the clean as its input.\n"] if setup.no_harm else []),
        markdown_table(summary, metrics),
        "## Tonal balance\n\nEach output's long-term spectrum minus the clean's, level included, in 1/6-octave "
        "bands (mean over clips): tonal_balance.png, tonal_balance.csv, the bands below.\n",
        balance_table(balance, setup.boundaries_hz),
    ]
    if setup.criteria:
        evidence = Evidence(rows, summary, balance, setup.candidate, setup.references)
        printed.append(criteria_table(setup.criteria, evidence))
    (out / "summary.md").write_text("\n".join([*printed, band_table(curves, setup.edges_hz)]))
    return "\n".join(printed)
