"""Click options for the enhancement settings, derived from their declarations in `muse_fx.settings`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click

from muse_fx.settings import Setting


def click_type(setting: Setting) -> click.ParamType:
    """Its choices, or its range, as click checks them before a model loads."""
    if setting.choices:
        return click.Choice([str(choice) for choice in setting.choices])
    if setting.type is float:
        return click.FloatRange(_plain(setting.low), _plain(setting.high))
    if setting.type is int:
        return click.IntRange(_whole(setting.low), _whole(setting.high))
    return click.STRING


def _plain(bound: float | None) -> float | None:
    """A whole bound as an int, so click says "0<=x<=1" rather than "0.0<=x<=1.0"."""
    return int(bound) if bound is not None and float(bound).is_integer() else bound


def _whole(bound: float | None) -> int | None:
    """An int setting's bound as click's IntRange takes it (the declarations hold every bound as a float)."""
    return None if bound is None else int(bound)


def option_help(setting: Setting) -> str:
    """The declared help, what the choices or the ends of the range do, and the default."""
    text = setting.help
    if isinstance(setting.choices, Mapping):
        text += ": " + " or ".join(f"{value} ({meaning})" for value, meaning in setting.choices.items())
    elif all(setting.ends):
        text += f": {setting.low:g} = {setting.ends[0]}, {setting.high:g} = {setting.ends[1]}"
    default = f"{setting.default:g}" if isinstance(setting.default, float) else setting.default
    return f"{text}.  [default: {default}]"


def _as_declared(setting: Setting) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A choice comes back from click as text ("6"); the setting's own type is what the code takes."""
    return lambda ctx, param, value: None if value is None else setting.type(value)


def setting_option(setting: Setting, help: str | None = None, **extra: Any) -> Callable:
    """`--<name>` for `setting`, checked as declared. Without a value it is None, so that a preset's value
    stands; `help` replaces the derived help where a command says more of it, `extra` any other click argument."""
    declared = {
        "type": click_type(setting),
        "callback": _as_declared(setting) if setting.choices else None,
        "help": help or option_help(setting),
    }
    return click.option(f"--{setting.name.replace('_', '-')}", **{**declared, **extra})
