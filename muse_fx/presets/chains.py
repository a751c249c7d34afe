"""A preset's chain: TOML → a Pedalboard of MuseEnhance and pedalboard plugins, and back.

Bundled presets live in `muse_fx/presets/library/` (the repo's `presets/`); the user's own, in the platformdirs config
folder (`muse-fx presets list` prints it), add to them and override them by name.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from pathlib import Path

import pedalboard
import tomli_w

from muse_fx import settings
from muse_fx.atomic import atomic_path
from muse_fx.board import Pedalboard, is_native
from muse_fx.errors import MuseFxError, PresetError
from muse_fx.loudness import Loudness
from muse_fx.plugin import MuseEnhance
from muse_fx.presets.files import available

MUSE_PARAMETERS = tuple(setting.name for setting in settings.PRESET)  # the keys a preset's MuseEnhance may give
SAVED_MUSE_PARAMETERS = tuple(setting.name for setting in settings.SOUND)  # where it runs is not saved


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


def native_parameters(cls: type) -> list[str]:
    """Constructor parameter names, read from pybind11's signature line (native classes have no inspect data)."""
    doc = (vars(cls)["__init__"].__doc__ or "").splitlines()[0]
    return [name for name in re.findall(r"(\w+): [^,)]+", doc) if name != "self"]


def _fail(path: Path, index: int, problem: str) -> PresetError:
    return PresetError(f"preset {path}: plugin #{index + 1}: {problem}")


def _build(path: Path, index: int, entry: dict, overrides: dict):
    entry = dict(entry)
    kind = entry.pop("type", None)
    natives = native_plugin_types()
    if kind == "MuseEnhance":
        unknown = set(entry) - set(MUSE_PARAMETERS)
        if unknown:
            raise _fail(
                path, index, f"unknown MuseEnhance key {sorted(unknown)[0]!r}; valid: {', '.join(MUSE_PARAMETERS)}"
            )
        try:
            return MuseEnhance(**{**entry, **overrides})
        except (ValueError, MuseFxError) as error:
            raise _fail(path, index, f"MuseEnhance: {error}") from None
    if kind not in natives:
        choices = ", ".join(["MuseEnhance", *sorted(natives)])
        raise _fail(path, index, f"unknown plugin type {kind!r}; valid types: {choices}")
    valid = native_parameters(natives[kind])
    for key in entry:
        if key not in valid:
            raise _fail(path, index, f"{kind} has no parameter {key!r}; valid: {', '.join(valid) or 'none'}")
    try:
        return natives[kind](**entry)
    except (TypeError, ValueError) as error:
        raise _fail(path, index, f"{kind}: bad value ({error})") from None


def load_preset(name_or_path: str | os.PathLike, **overrides) -> Pedalboard:
    """A preset name (`muse-fx presets list`) or a .toml path → a ready Pedalboard.

    `overrides` (e.g. mix=0.5, device="cpu") replace the MuseEnhance settings the preset gives.
    """
    path = Path(name_or_path)
    if path.suffix != ".toml":
        presets = available()
        if str(name_or_path) not in presets:
            raise PresetError(f"unknown preset {str(name_or_path)!r}; available: {', '.join(sorted(presets))}")
        path = presets[str(name_or_path)]
    if not path.is_file():
        raise PresetError(f"preset file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PresetError(f"preset {path} is not valid TOML: {error}") from None
    entries = data.get("plugin")
    if not isinstance(entries, list) or not entries:
        raise PresetError(f"preset {path} lists no plugins: add [[plugin]] tables with a `type` key")
    loudness = Loudness.from_preset(data, path)  # checked before any model loads
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return Pedalboard((_build(path, i, entry, overrides) for i, entry in enumerate(entries)), loudness=loudness)


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
    names = native_parameters(type(plugin))
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
