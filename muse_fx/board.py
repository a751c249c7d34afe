"""muse_fx.Pedalboard: a drop-in for pedalboard.Pedalboard that can also hold muse_fx plugins.

pedalboard's chain is C++ and only accepts native plugins, so this board keeps a Python list and runs each
stretch of consecutive native plugins as one native `pedalboard.Pedalboard` — native speed where possible.
pedalboard itself is left as it is: a native board refuses MuseEnhance with pedalboard's own TypeError.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pedalboard

from muse_fx.errors import PresetError, SettingError
from muse_fx.io.arrays import StreamLayout, check_finite, prepare

if TYPE_CHECKING:
    from muse_fx.loudness import Loudness

REPR_FRAME = re.compile(r"^<\S+\s*|\s*at 0x[0-9a-fA-F]+>$")  # what a plugin's repr has around its settings


def is_native(plugin) -> bool:
    return isinstance(plugin, pedalboard.Plugin)


def native_signature(cls: type) -> dict[str, str]:
    """Constructor parameter name → its type as pybind11 writes it (native classes have no inspect data)."""
    doc = re.sub(r"<[^<>]*>", "", (vars(cls)["__init__"].__doc__ or "").splitlines()[0])  # default values' reprs
    return dict(re.findall(r"(\w+): ([\w.]+(?:\[(?:[^\[\]]|\[[^\[\]]*\])*\])?)", doc)[1:])  # after self


def is_frequency(parameter: str) -> bool:
    """Whether a native parameter is a filter's frequency: above 0 Hz, below the Nyquist frequency of its rate."""
    return "frequency" in parameter or "cutoff" in parameter


def _leaves(plugin) -> Iterator:
    """`plugin`, or the plugins inside a native container (pedalboard.Pedalboard, Chain, Mix)."""
    if isinstance(plugin, pedalboard.PluginContainer):
        for inner in plugin:
            yield from _leaves(inner)
    elif is_native(plugin):
        yield plugin


def above_nyquist(plugin, rate: int) -> str | None:
    """The first frequency of native `plugin` (or one it contains) that `rate` Hz audio cannot hold, described;
    pedalboard takes such a cutoff and returns Inf or NaN."""
    for leaf in _leaves(plugin):
        for name in filter(is_frequency, native_signature(type(leaf))):
            value = getattr(leaf, name, None)
            if isinstance(value, float) and value >= rate / 2:
                return (
                    f"{type(leaf).__name__}: {name} {value:g} Hz is not below {rate / 2:g} Hz, the highest frequency "
                    f"{rate} Hz audio holds; set it below {rate / 2:g} Hz"
                )
    return None


def can_stream(plugin) -> bool:
    """Whether `plugin` runs block by block with pedalboard's `process(…, reset=False)`: native plugins do,
    muse_fx plugins and boards answer with `streams` (MuseEnhance on a server cannot: a server needs whole
    recordings), and a plain function of (audio, sample_rate) cannot."""
    if not (callable(getattr(plugin, "process", None)) and hasattr(plugin, "reset")):
        return False
    return getattr(plugin, "streams", True)


def _check_plugin(plugin) -> None:
    if is_native(plugin) or isinstance(plugin, Pedalboard):
        return
    if callable(getattr(plugin, "process", None)) and hasattr(plugin, "reset"):
        return
    raise TypeError(
        f"{plugin!r} is not a plugin: muse_fx.Pedalboard holds pedalboard plugins, muse_fx plugins "
        "(MuseEnhance) and nested boards"
    )


class Pedalboard:
    """A list of plugins applied in order: `Pedalboard([MuseEnhance(), Reverb()])(audio, sample_rate)`."""

    is_effect = True
    is_instrument = False

    def __init__(self, plugins: Iterable | None = None, loudness: Loudness | None = None, preset: Path | None = None):
        self._plugins: list = []
        for plugin in plugins or []:
            self.append(plugin)
        self.loudness = loudness  # a preset's make-up; it needs the whole recording, so enhance_file applies it
        self.preset = preset  # the file this board was loaded from, named in its errors
        self._layout = StreamLayout()  # of the open stream (reset=False)
        self._segments_cache: tuple | None = None

    # -- list-like API ----------------------------------------------------------------------------------------
    def append(self, plugin) -> None:
        _check_plugin(plugin)
        self._plugins.append(plugin)

    def insert(self, index: int, plugin) -> None:
        _check_plugin(plugin)
        self._plugins.insert(index, plugin)

    def remove(self, plugin) -> None:
        self._plugins.remove(plugin)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Pedalboard(self._plugins[index])
        return self._plugins[index]

    def __setitem__(self, index: int, plugin) -> None:
        _check_plugin(plugin)
        self._plugins[index] = plugin

    def __delitem__(self, index) -> None:
        del self._plugins[index]

    def __len__(self) -> int:
        return len(self._plugins)

    def __iter__(self) -> Iterator:
        return iter(self._plugins)

    def __repr__(self) -> str:
        return f"<muse_fx.Pedalboard with {len(self)} plugin{'s' if len(self) != 1 else ''}: {self._plugins!r}>"

    @property
    def streams(self) -> bool:
        """Whether every plugin can run block by block (see `can_stream`)."""
        return all(can_stream(plugin) for plugin in self._plugins)

    def reset(self) -> None:
        for plugin in self._plugins:
            plugin.reset()
        self._segments_cache = None
        self._layout = StreamLayout()

    # -- processing -------------------------------------------------------------------------------------------
    def _segments(self) -> list:
        """Consecutive native plugins grouped into one native board; muse_fx plugins stand alone."""
        key = tuple(id(p) for p in self._plugins)
        if self._segments_cache and self._segments_cache[0] == key:
            return self._segments_cache[1]
        segments: list = []
        for plugin in self._plugins:
            if is_native(plugin) and segments and isinstance(segments[-1], pedalboard.Pedalboard):
                segments[-1].append(plugin)
            elif is_native(plugin):
                segments.append(pedalboard.Pedalboard([plugin]))
            else:
                segments.append(plugin)
        self._segments_cache = (key, segments)
        return segments

    def process(
        self, input_array: np.ndarray, sample_rate: float, buffer_size: int = 8192, reset: bool = True
    ) -> np.ndarray:
        """Run every plugin in order on float audio shaped like pedalboard accepts; returns float32, same layout."""
        layout, audio, rate = self._layout.read(input_array, sample_rate, final=reset)
        if audio is None:  # too small to tell its layout: held until a block that tells
            return layout.no_samples(np.asarray(input_array))
        return layout.restore(self.stream_block(audio, rate, reset, buffer_size))

    def stream_block(self, audio: np.ndarray, rate: int, final: bool, buffer_size: int = 8192) -> np.ndarray:
        """`process` for a block whose layout is known, (channels, samples) float32 at `rate` Hz: how a board
        hands its blocks on to the muse_fx plugins and boards in it, which need not guess the layout again."""
        audio = self._run(audio, rate, buffer_size, final, progress=None)
        if final:
            self._layout = StreamLayout()
        return audio

    __call__ = process

    def enhance(self, audio: np.ndarray, sample_rate: float, progress=None) -> np.ndarray:
        """Offline processing of a whole recording; `progress(done, total)` counts seconds of audio through each
        muse_fx plugin in turn."""
        layout, signal, rate = prepare(audio, sample_rate)
        return layout.restore(self._run(signal, rate, 8192, True, progress))

    def _run(self, audio: np.ndarray, rate: int, buffer_size: int, reset: bool, progress) -> np.ndarray:
        """(channels, samples) through every segment in order."""
        self._check_frequencies(rate)
        for segment in self._segments():
            given = audio
            if progress is not None and hasattr(segment, "enhance"):
                audio = segment.enhance(audio, rate, progress=progress)
            elif hasattr(segment, "stream_block"):
                audio = segment.stream_block(audio, rate, reset, buffer_size)
            else:
                audio = np.asarray(segment.process(audio, rate, buffer_size=buffer_size, reset=reset), dtype=np.float32)
            audio = audio[np.newaxis, :] if audio.ndim == 1 else audio
            check_finite(
                audio,
                partial(self._culprit, segment, given, rate),
                f"check the settings: a frequency above half the sample rate ({rate / 2:g} Hz), or an extreme gain, "
                "makes a plugin blow up",
            )
        return audio

    def _check_frequencies(self, rate: int) -> None:
        """Every native plugin's frequencies below the Nyquist frequency of `rate`, or an error naming it."""
        for number, plugin in enumerate(self._plugins, 1):
            if (problem := above_nyquist(plugin, rate)) and self.preset is not None:
                raise PresetError(f"preset {self.preset}: plugin #{number}: {problem}")
            if problem:
                raise SettingError(f"plugin #{number}: {problem}")

    def _culprit(self, segment, given: np.ndarray, rate: int) -> str:
        """Which plugin of `segment` made non-finite audio of `given`: on this failure path only, a native stretch's
        plugins run again one at a time to find it; if none does alone, all of them are named."""
        plugins = list(segment) if isinstance(segment, pedalboard.Pedalboard) else [segment]
        found = _first_to_blow_up(plugins, given, rate) if len(plugins) > 1 else None
        return " or ".join(self._named(plugin) for plugin in ([found] if found else plugins))

    def _named(self, plugin) -> str:
        """`plugin #N (Type settings…)`, numbered as in the board and in a preset file's [[plugin]] list."""
        number = next(index for index, member in enumerate(self._plugins, 1) if member is plugin)
        settings = REPR_FRAME.sub("", repr(plugin))
        return f"plugin #{number} ({' '.join(filter(None, [type(plugin).__name__, settings]))})"


def _first_to_blow_up(plugins: list, audio: np.ndarray, rate: int):
    for plugin in plugins:
        audio = plugin.process(audio, rate, reset=True)
        if not np.all(np.isfinite(audio)):
            return plugin
    return None
