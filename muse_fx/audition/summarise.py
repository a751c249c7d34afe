"""Pooling blind-test ratings: each variant's mean score with a 95% confidence interval (Student's t)."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.stats

from muse_fx.errors import MuseFxError

CONFIDENCE = 0.95


SAVED_BY_PAGE = "pass the files the page's Download ratings button saved"


class RatingsError(MuseFxError, ValueError):
    """A ratings file is not one the audition page saved."""


@dataclass(frozen=True)
class Row:
    name: str
    n: int
    mean: float
    half_width: float  # of the confidence interval; nan with a single rating

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise RatingsError(f"{path}: cannot be read ({error.strerror or error})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RatingsError(f"{path}: is not JSON ({error}); {SAVED_BY_PAGE}") from None
    ratings = data.get("ratings") if isinstance(data, dict) else None
    if not isinstance(ratings, dict) or not ratings:
        raise RatingsError(f'{path}: has no "ratings" object; {SAVED_BY_PAGE}')
    for name, score in ratings.items():
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 100:
            raise RatingsError(f"{path}: the rating of {name!r} is {score!r}; ratings are numbers from 0 to 100")
    return ratings


def read_ratings(paths: list[Path]) -> dict[str, list[float]]:
    """Variant name → every score it got, across all files (listeners and excerpts pooled)."""
    scores = defaultdict(list)
    for path in paths:
        for name, score in _read(Path(path)).items():
            scores[name].append(float(score))
    return dict(scores)


def summarise(scores: dict[str, list[float]]) -> list[Row]:
    """One row per variant, best mean first."""
    rows = []
    for name, values in scores.items():
        n = len(values)
        spread = np.std(values, ddof=1) / math.sqrt(n) if n > 1 else math.nan
        half = scipy.stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * spread if n > 1 else math.nan
        rows.append(Row(name, n, float(np.mean(values)), float(half)))
    return sorted(rows, key=lambda row: -row.mean)


def table(rows: list[Row]) -> str:
    width = max([len("variant"), *(len(row.name) for row in rows)])
    lines = [f"{'variant':<{width}}  {'n':>3}  {'mean':>5}  {CONFIDENCE:.0%} CI"]
    for row in rows:
        interval = "—" if math.isnan(row.half_width) else f"±{row.half_width:5.1f}  [{row.low:5.1f}, {row.high:5.1f}]"
        lines.append(f"{row.name:<{width}}  {row.n:>3}  {row.mean:5.1f}  {interval}")
    return "\n".join(lines)
