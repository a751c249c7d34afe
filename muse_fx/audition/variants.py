"""What to render: a preset with settings that override it, and the command and preset file that reproduce it."""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from muse_fx.settings import LEVELS

DEFAULT_SWEEPS = {setting.name: list(setting.compare) for setting in LEVELS if setting.compare}


def _number(value: float) -> str:
    """Shortest text that reads back as exactly `value`, so a printed command renders the same samples."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def slug(name: str) -> str:
    """A variant's name as a file name: "gentle · mix 0.5" → "gentle-mix-0-5"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _flag_value(value) -> str:
    return _number(value) if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Variant:
    """A preset (None: MuseEnhance alone) with MuseEnhance settings that override the preset's own."""

    preset: str | None = None
    overrides: tuple[tuple[str, float], ...] = ()

    @property
    def name(self) -> str:
        parts = [Path(self.preset).stem] if self.preset else []
        parts += [f"{key} {_number(value)}" for key, value in self.overrides]
        return " · ".join(parts) or "default"

    def settings(self, common: dict) -> dict:
        """MuseEnhance settings for this variant: the run's common ones (model, device…), then its overrides."""
        return {**{k: v for k, v in common.items() if v is not None}, **dict(self.overrides)}

    def command(self, source: Path, common: dict, start: float, duration: float | None) -> str:
        """The `muse-fx enhance` command that renders this variant of the same excerpt (None: to the end of the
        file), beside the input."""
        args = ["muse-fx", "enhance", str(source)]
        if self.preset:
            args += ["--preset", self.preset]
        for key, value in self.settings(common).items():
            args += [f"--{key.replace('_', '-')}", _flag_value(value)]
        output = source.with_name(f"{source.stem}_{slug(self.name)}{source.suffix}")
        if start:
            args += ["--start", _number(start)]
        if duration is not None:
            args += ["--duration", _number(duration)]
        args += ["-o", str(output)]
        return shlex.join(args)


def plan(presets: Iterable[str | None], sweeps: dict[str, list[float]]) -> list[Variant]:
    """Every preset with every combination of the swept settings (e.g. each of LEVELS), without repeats."""
    combinations = [tuple(zip(sweeps, values)) for values in itertools.product(*sweeps.values())]
    return list(dict.fromkeys(Variant(preset, combination) for preset in presets for combination in combinations))


def default_plan(bundled: Iterable[str]) -> list[Variant]:
    """Every bundled preset as it is, then the plain model at the values its declarations compare (DEFAULT_SWEEPS)."""
    return plan(bundled, {}) + plan([None], DEFAULT_SWEEPS)


def sweeps_text(sweeps: dict[str, list[float]]) -> str:
    """The swept values as help text says them: "mix 0.5 and 1"."""
    return ", ".join(f"{name} {' and '.join(map(_number, values))}" for name, values in sweeps.items())


def preset_toml(board, description: str) -> str:
    """The board as a preset file's text: saved in the presets folder, `--preset NAME` renders it again."""
    from muse_fx.presets.chains import preset_data

    return tomli_w.dumps(preset_data(board, description))
