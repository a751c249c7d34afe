"""Done criteria checked on one `muse-fx eval` run: a candidate system against the input and named references.

The rule sets are issue 26's: `realmusic` for a degraded real development set, `no-harm` for clean recordings given
as input, `paper-val` for the paper's clips. A rule whose system or metric is missing from the run is not met.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from muse_fx.evaluation.tonal import BalanceFigures

INPUT = "input"
MAX_SEAM_DB = 3.0
REFERENCE_SHARE = 0.9  # the candidate's full-band MR-STFT must be at least 10 % below each reference's


@dataclass(frozen=True)
class Check:
    """One criterion: met when `value` ≤ `limit` (never when either is NaN: not measured)."""

    text: str
    value: float
    limit: float

    @property
    def met(self) -> bool:
        return self.value <= self.limit


@dataclass(frozen=True)
class Evidence:
    """What the rules read: the run's CSV rows, its means per system, its tonal balance figures per system."""

    rows: Sequence[dict]
    summary: dict[str, dict[str, float]]
    balance: dict[str, BalanceFigures]
    candidate: str
    references: Sequence[str] = ()

    def mean(self, system: str, metric: str) -> float:
        return self.summary.get(system, {}).get(metric, math.nan)

    def figures(self, system: str) -> BalanceFigures | None:
        return self.balance.get(system)


Rule = Callable[[Evidence], list[Check]]


def _at_most(metric: str, limit: float, text: str) -> Rule:
    return lambda e: [Check(text, e.mean(e.candidate, metric), limit)]


def _holes_near_input(e: Evidence) -> list[Check]:
    return [Check("holes (%) ≤ input's + 0.5", e.mean(e.candidate, "holes"), e.mean(INPUT, "holes") + 0.5)]


def _newly_muffled(e: Evidence) -> list[Check]:
    """Clips the candidate leaves muffled where the input was not (clips below 16 kHz are not measured)."""
    muffled = {(r["clip"], r["system"]): r.get("muffled", math.nan) for r in e.rows}
    changes = [
        (after, muffled.get((clip, INPUT), math.nan))
        for (clip, system), after in muffled.items()
        if system == e.candidate
    ]
    measured = [(after, before) for after, before in changes if not (math.isnan(after) or math.isnan(before))]
    count = sum(after == 1 and before == 0 for after, before in measured) if measured else math.nan
    return [Check("clips muffled that the input was not", count, 0)]


def _deviation_within_input(e: Evidence) -> list[Check]:
    candidate, source = e.figures(e.candidate), e.figures(INPUT)
    return [
        Check(
            "tonal deviation above 1 kHz (dB) ≤ input's",
            candidate.deviation if candidate else math.nan,
            source.deviation if source else math.nan,
        )
    ]


def _no_seams(e: Evidence) -> list[Check]:
    candidate = e.figures(e.candidate)
    steps = candidate.boundary_steps if candidate else {}
    if not steps:
        return [
            Check("step at internal boundaries, up or down (dB) ≤ 3: none given (--boundary HZ)", math.nan, MAX_SEAM_DB)
        ]
    return [
        Check(f"step at {hz / 1000:.2f} kHz, up or down (dB) ≤ 3", abs(step), MAX_SEAM_DB) for hz, step in steps.items()
    ]


def _beats_references(e: Evidence) -> list[Check]:
    if not e.references:
        return [Check("full-band MR-STFT ≤ 0.9 × each reference's: none given (--references)", math.nan, math.nan)]
    value = e.mean(e.candidate, "fb_mrstft")
    return [
        Check(f"full-band MR-STFT ≤ 0.9 × {ref}'s", value, REFERENCE_SHARE * e.mean(ref, "fb_mrstft"))
        for ref in e.references
    ]


def _high_band_kept(e: Evidence) -> list[Check]:
    return [Check("energy above 8 kHz change, up or down (dB) ≤ 1.5", abs(e.mean(e.candidate, "muffling")), 1.5)]


CRITERIA: dict[str, tuple[Rule, ...]] = {
    "realmusic": (_holes_near_input, _newly_muffled, _deviation_within_input, _no_seams, _beats_references),
    "no-harm": (
        _at_most("fb_mrstft", 0.15, "full-band MR-STFT ≤ 0.15"),
        _at_most("holes", 0.2, "holes (%) ≤ 0.2"),
        _high_band_kept,
    ),
    "paper-val": (_at_most("mrspec", 1.50, "MR-STFT ≤ 1.50"), _at_most("spec_l1", 2.35, "log-spec L1 ≤ 2.35")),
}


def check(rules: str, evidence: Evidence) -> list[Check]:
    return [c for rule in CRITERIA[rules] for c in rule(evidence)]


def _number(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.3f}"


def criteria_table(rules: str, evidence: Evidence) -> str:
    """A Markdown section: each criterion with the candidate's value, its limit and whether it is met."""
    checks = check(rules, evidence)
    lines = [
        f"## Criteria {rules}: {evidence.candidate}",
        "",
        f"| criterion | {evidence.candidate} | limit | met |",
        "|---|---|---|---|",
        *(f"| {c.text} | {_number(c.value)} | {_number(c.limit)} | {'yes' if c.met else 'NO'} |" for c in checks),
        "",
        f"{sum(c.met for c in checks)} of {len(checks)} met.",
    ]
    return "\n".join(lines) + "\n"
