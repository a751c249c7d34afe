"""A preset's pedalboard parameters, checked by rule rather than per plugin.

pedalboard takes NaN, infinite gains and cutoffs of 0 Hz without a word, and its output is then NaN or Inf. A
cutoff above the Nyquist frequency is the same fault, but the rate is only known when audio comes, so the board
checks that (`muse_fx.board.above_nyquist`). A misspelt key gets the closest valid one as a suggestion.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from pathlib import Path

from muse_fx.board import is_frequency
from muse_fx.io.arrays import SAMPLE_RATE_RANGE

LEVEL_RANGE_DB = (-120.0, 60.0)  # wide enough for any gain, threshold or ceiling; past it float audio overflows
FEEDBACK_RANGE = (-1.0, 1.0)  # beyond ±1 a feedback loop grows without bound
MAX_RATE = SAMPLE_RATE_RANGE[1]  # pedalboard's Resample fails part-way above about 1 MHz


def closest(word: object, choices: Iterable[str]) -> str | None:
    """The choice `word` was most likely meant to be (a typo away), or None."""
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return close[0] if close else None


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """' (did you mean 'room_size'?)' for the closest of `choices`, or '' when none is close."""
    close = closest(word, choices)
    return f" (did you mean {close!r}?)" if close and close != word else ""


def is_number_type(annotation: str) -> bool:
    """Whether pybind11's type for a parameter (`float`, `Optional[float]`…) takes a number."""
    return bool({"float", "int"} & set(re.findall(r"\w+", annotation)))


def value_problem(name: str, value: object, annotation: str, folder: Path) -> str | None:
    """What is wrong with `value` for the native parameter `name` of pybind11 type `annotation`, and what to give
    instead; None when nothing is. Enums and switches are left to pedalboard's own checks."""
    if is_file(name):
        return _file_problem(name, value, folder)
    if not is_number_type(annotation):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{name} must be a number, got {value!r}"
    if not math.isfinite(value):
        return f"{name} is {value}; give a finite number"
    if is_frequency(name) and value <= 0:
        return f"{name} must be a frequency above 0 Hz, got {value:g}"
    if name.endswith("sample_rate") and not 0 < value <= MAX_RATE:
        return f"{name} must be a rate above 0 Hz, at most {MAX_RATE} Hz, got {value:g}"
    for applies, (low, high), what in (
        (name.endswith("_db"), LEVEL_RANGE_DB, "a level in dB"),
        ("feedback" in name, FEEDBACK_RANGE, "a feedback amount"),
    ):
        if applies and not low <= value <= high:
            return f"{name} must be {what} from {low:g} to {high:+g}, got {value:g}"
    return None


def is_file(name: str) -> bool:
    return name.endswith("_filename")


def in_folder(value: str, folder: Path) -> str:
    """A file parameter's path: a relative one is read from the preset's folder, not from where muse-fx runs."""
    return str(folder / Path(value).expanduser())


def _file_problem(name: str, value: object, folder: Path) -> str | None:
    if not isinstance(value, str) or not value:
        return f"{name} must be the path of an audio file, in quotes; got {value!r}"
    if not Path(in_folder(value, folder)).is_file():
        return (
            f"{name}: no file at {in_folder(value, folder)}; give the path of an audio file "
            f"(a relative path is read from the preset's folder)"
        )
    return None
