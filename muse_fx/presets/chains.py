"""A preset's chain: TOML → a Pedalboard of MuseEnhance and pedalboard plugins, and back.

Bundled presets live in `muse_fx/presets/library/` (the repo's `presets/`); the user's own, in the platformdirs config
folder (`muse-fx presets list` prints it), add to them and override them by name.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pedalboard
import tomli_w

from muse_fx import settings
from muse_fx.board import Pedalboard, is_native, native_signature
from muse_fx.errors import MuseFxError, PresetError
from muse_fx.io.atomic import atomic_path
from muse_fx.loudness import Loudness
from muse_fx.plugin import MuseEnhance
from muse_fx.presets.files import available
from muse_fx.presets.parameters import closest, did_you_mean, in_folder, is_file, value_problem

MUSE_PARAMETERS = tuple(setting.name for setting in settings.PRESET)  # the keys a preset's MuseEnhance may give
SAVED_MUSE_PARAMETERS = tuple(setting.name for setting in settings.SOUND)  # where it runs is not saved
TOP_KEYS = ("description", "loudness", "peak_ceiling_db", "plugin")  # a preset's keys outside its [[plugin]] tables


def native_plugin_types() -> dict[str, type]:
    return {
        name: cls
        for name, cls in vars(pedalboard).items()
        if isinstance(cls, type)
        and issubclass(cls, pedalboard.Plugin)
        and not name.startswith("_")
        and name
        not in (
            "Plugin",
            "PluginContainer",
            "IIRFilter",
            "Pedalboard",
            "Chain",
            "Mix",
            "ExternalPlugin",
            "VST3Plugin",
            "AudioUnitPlugin",
        )
        and "__init__(self" in (cls.__init__.__doc__ or "")
    }


def _fail(path: Path, index: int, problem: str) -> PresetError:
    return PresetError(f"preset {path}: plugin #{index + 1}: {problem}")


def _unknown_key(key: str, valid: Iterable[str], elsewhere: Iterable[str], where: str) -> str:
    """What to say of a key that does not belong here: the valid key it is closest to, here or where it belongs."""
    valid, elsewhere = list(valid), list(elsewhere)
    close = closest(key, [*valid, *elsewhere])
    if close in elsewhere:
        return f"{key!r}{did_you_mean(key, [close])}: {close!r} {where}"
    return f"{key!r}{did_you_mean(key, valid)}; valid: {', '.join(valid) or 'none'}"


def _build(path: Path, index: int, entry: object, overrides: dict):
    if not isinstance(entry, dict):
        raise _fail(path, index, f"is {entry!r}, not a table: write each plugin as [[plugin]] with a type key below it")
    entry = dict(entry)
    kind = entry.pop("type", None)
    if kind == "MuseEnhance":
        return _build_muse(path, index, entry, overrides)
    return _build_native(path, index, kind, entry)


def _build_muse(path: Path, index: int, entry: dict, overrides: dict) -> MuseEnhance:
    for key in entry:
        if key not in MUSE_PARAMETERS:
            where = "belongs at the top of the file, before the first [[plugin]]"
            raise _fail(path, index, "unknown MuseEnhance key " + _unknown_key(key, MUSE_PARAMETERS, TOP_KEYS, where))
    try:
        return MuseEnhance(**{**entry, **overrides})
    except (ValueError, MuseFxError) as error:
        raise _fail(path, index, f"MuseEnhance: {error}") from None


def _build_native(path: Path, index: int, kind: object, entry: dict):
    natives = native_plugin_types()
    if not isinstance(kind, str) or kind not in natives:
        choices = ["MuseEnhance", *sorted(natives)]
        what = f"unknown plugin type {kind!r}{did_you_mean(kind, choices)}"
        if not isinstance(kind, str):
            what = "has no type" if kind is None else f"has type {kind!r}, not a name"
        raise _fail(path, index, f"{what}; give type = one of {', '.join(choices)}, in quotes")
    signature = native_signature(natives[kind])
    for key, value in entry.items():
        if key not in signature:
            where = "belongs at the top of the file, before the first [[plugin]]"
            raise _fail(path, index, f"{kind} has no parameter " + _unknown_key(key, signature, TOP_KEYS, where))
        if problem := value_problem(key, value, signature[key], path.parent):
            raise _fail(path, index, f"{kind}: {problem}")
    entry = {key: in_folder(value, path.parent) if is_file(key) else value for key, value in entry.items()}
    try:
        return natives[kind](**entry)
    except (TypeError, ValueError, RuntimeError) as error:
        raise _fail(path, index, f"{kind}: bad value ({error})") from None


def _read(name_or_path: str | os.PathLike) -> tuple[Path, dict]:
    """A preset name or .toml path → its file and its TOML table."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        presets = available()
        if str(name_or_path) not in presets:
            raise PresetError(f"unknown preset {str(name_or_path)!r}; available: {', '.join(sorted(presets))}")
        path = presets[str(name_or_path)]
    if not path.is_file():
        raise PresetError(f"preset file {path} does not exist")
    try:
        return path, tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PresetError(f"preset {path} is not valid TOML: {error}") from None


def _entries(path: Path, data: dict) -> list:
    """The [[plugin]] tables, after checking the keys around them."""
    for key in data:
        if key not in TOP_KEYS:
            where = "is a MuseEnhance setting: put it in the MuseEnhance [[plugin]] table"
            raise PresetError(f"preset {path}: unknown key " + _unknown_key(key, TOP_KEYS, MUSE_PARAMETERS, where))
    if not isinstance(data.get("description", ""), str):
        raise PresetError(f"preset {path}: description must be text in quotes, got {data['description']!r}")
    entries = data.get("plugin")
    if isinstance(entries, dict):
        raise PresetError(f"preset {path}: write [[plugin]], with double brackets, above each plugin's keys")
    if not isinstance(entries, list) or not entries:
        raise PresetError(f"preset {path} lists no plugins: add [[plugin]] tables with a `type` key")
    return entries


def load_preset(name_or_path: str | os.PathLike, **overrides) -> Pedalboard:
    """A preset name (`muse-fx presets list`) or a .toml path → a ready Pedalboard.

    `overrides` (e.g. mix=0.5, device="cpu") replace the MuseEnhance settings the preset gives.
    """
    path, data = _read(name_or_path)
    entries = _entries(path, data)
    loudness = Loudness.from_preset(data, path)  # checked before any model loads
    overrides = {k: v for k, v in overrides.items() if v is not None}
    plugins = [_build(path, i, entry, overrides) for i, entry in enumerate(entries)]
    return Pedalboard(plugins, loudness=loudness, preset=path)


def _shortest(probe, name: str, value):
    """The shortest decimal that sets parameter `name` of `probe` (a plugin of the same type) to `value`."""
    if probe is None or not isinstance(value, float) or not math.isfinite(value):
        return value
    for digits in range(1, 18):
        candidate = float(f"{value:.{digits}g}")
        try:
            setattr(probe, name, candidate)
        except ValueError:  # rounded out of the parameter's range
            continue
        if getattr(probe, name) == value:
            return candidate
    return value


def _native_parameters(plugin) -> dict:
    """Its parameters as a preset writes them. pedalboard keeps floats as float32, some through a conversion (a q
    of 1.2 reads back as 1.2000000476837158, a 2 dB gain as 2.000000238418579): each is written as the shortest
    decimal that gives the same value, so a saved preset reads as it was written and still renders the same."""
    try:
        probe = type(plugin)()
    except TypeError:  # Convolution has no default impulse response: its floats are written as they are
        probe = None
    names = native_signature(type(plugin))
    return {name: _shortest(probe, name, getattr(plugin, name)) for name in names if hasattr(plugin, name)}


def describe(plugin) -> dict:
    if isinstance(plugin, MuseEnhance):
        return {"type": "MuseEnhance", **{k: getattr(plugin, k) for k in SAVED_MUSE_PARAMETERS}}
    if is_native(plugin):
        return {"type": type(plugin).__name__, **_native_parameters(plugin)}
    raise PresetError(f"cannot save {plugin!r} in a preset: only MuseEnhance and pedalboard plugins can be saved")


def preset_data(board: Pedalboard, description: str = "") -> dict:
    """`board` as a preset file's table: `load_preset` builds an equivalent board from it, loudness included."""
    data: dict = {"description": description} if description else {}
    if board.loudness is not None:
        data.update(board.loudness.to_preset())
    data["plugin"] = [describe(p) for p in board]
    return data


def save_preset(board: Pedalboard, path: str | os.PathLike, description: str = "") -> Path:
    """Write `board` as a preset that `load_preset` reads back to an equivalent board (temp file, then rename)."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        tomli_w.dump(preset_data(board, description), f)
    return path
