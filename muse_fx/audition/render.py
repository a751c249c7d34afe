"""Rendering the excerpt: the original, each variant through the same engine as `muse-fx enhance`, and MUSHRA's
anchor; each measured for loudness, and pictured before/after."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyloudnorm
import scipy.signal

from muse_fx.audition.variants import Variant, preset_toml
from muse_fx.errors import AudioInputError
from muse_fx.io.audio_files import cut_short, probe, read_audio, read_part, span, write_audio

EXCERPT_CAP = 30.0  # seconds rendered when --duration is not given
MIN_SECONDS = 0.5  # integrated loudness gates 0.4 s blocks
ANCHOR_CUTOFF_HZ = 3500.0  # ITU-R BS.1534 (MUSHRA): the anchor is the reference low-passed at 3.5 kHz
PICTURE_DPI = 80
WAV: dict[str, Any] = {"fmt": "WAV", "subtype": "PCM_16"}  # what every browser's decodeAudioData reads


@dataclass(frozen=True)
class Excerpt:
    source: Path
    start: float
    duration: float
    audio: np.ndarray  # (channels, samples) float32
    rate: int
    to_end: bool  # whether it runs to the end of the file
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Take:
    """One rendered version of the excerpt."""

    name: str
    wav: Path
    loudness: float  # integrated, LUFS; -inf for silence
    command: str | None = None
    preset_toml: str | None = None


@dataclass(frozen=True)
class Picture:
    """A spectrogram PNG and where its time axis lies on it (fractions of width and height), for a playhead."""

    path: Path
    left: float
    right: float
    top: float
    bottom: float
    seconds: float  # time at the right edge


def read_excerpt(source: Path, start: float, duration: float | None) -> Excerpt:
    """The part of `source` to audition: `duration` seconds from `start`, or up to EXCERPT_CAP seconds."""
    info = probe(source)
    first, count = span(source, info, start, duration)
    if duration is None:
        count = min(count, int(EXCERPT_CAP * info.sample_rate))
    audio = read_part(source, info, first, count)
    rate, length = info.sample_rate, audio.shape[1]  # fewer than `count` where a truncated file really ends
    if length < MIN_SECONDS * rate:
        raise AudioInputError(
            f"{source}: the excerpt from {start:g} s is {length / rate:.2f} s long; audition needs at "
            f"least {MIN_SECONDS} s — choose an earlier --start or a longer --duration"
        )
    to_end = length < count or first + length == info.frames
    warning = cut_short(source, info, first, count, length)
    warnings = (f"{warning}; the excerpt ends there",) if warning else ()
    return Excerpt(source, start, length / rate, audio, rate, to_end, warnings)


def loudness(audio: np.ndarray, rate: int) -> float:
    """Integrated loudness (ITU-R BS.1770) of (channels, samples); more than 5 channels are measured downmixed."""
    measured = audio if audio.shape[0] <= 5 else audio.mean(axis=0, keepdims=True)
    with np.errstate(divide="ignore"):
        return float(pyloudnorm.Meter(rate).integrated_loudness(measured.T.astype(np.float64)))


def _take(name: str, audio: np.ndarray, rate: int, wav: Path) -> Take:
    write_audio(wav, audio, rate, WAV["fmt"], WAV["subtype"])
    return Take(name, wav, loudness(read_audio(wav)[0], rate))


def render_original(excerpt: Excerpt, wav: Path) -> Take:
    return _take("original", excerpt.audio, excerpt.rate, wav)


def render_anchor(excerpt: Excerpt, wav: Path) -> Take:
    """The original low-passed at 3.5 kHz (8th-order Butterworth): an obviously worse version that calibrates
    the bottom of the rating scale."""
    cutoff = min(ANCHOR_CUTOFF_HZ, 0.45 * excerpt.rate)
    sos = scipy.signal.butter(8, cutoff, fs=excerpt.rate, output="sos")
    filtered = scipy.signal.sosfilt(sos, excerpt.audio, axis=-1).astype(np.float32)
    return _take(f"anchor ({ANCHOR_CUTOFF_HZ / 1000:g} kHz low-pass)", filtered, excerpt.rate, wav)


def render_variant(variant: Variant, common: dict, excerpt: Excerpt, wav: Path) -> Take:
    """`variant` rendered by `muse-fx enhance`'s own board and file path, so its printed command repeats it."""
    from muse_fx.files import build_board, enhance_file

    board = build_board(variant.preset, **variant.settings(common))
    duration = None if excerpt.to_end else excerpt.duration
    enhance_file(board, excerpt.source, wav, start=excerpt.start, duration=duration, overwrite=True, **WAV)
    description = f"{variant.name}, picked by ear with muse-fx audition on {excerpt.source.name}"
    return Take(
        variant.name,
        wav,
        loudness(read_audio(wav)[0], excerpt.rate),
        command=variant.command(excerpt.source, common, excerpt.start, duration),
        preset_toml=preset_toml(board, description),
    )


def picture(panels: dict[str, Path], rate: int, path: Path, title: str) -> Picture:
    """Spectrograms of the labelled WAVs, one row each, in the project's style (muse_fx.plot)."""
    import matplotlib.pyplot as plt

    from muse_fx.plot import spectrogram_figure

    fig = spectrogram_figure({label: read_audio(wav)[0] for label, wav in panels.items()}, rate, title)
    rows = fig.axes[: len(panels)]
    first, last = rows[0].get_position(), rows[-1].get_position()
    seconds = float(rows[0].get_xlim()[1])
    fig.savefig(path, dpi=PICTURE_DPI)
    plt.close(fig)
    return Picture(path, first.x0, first.x1, 1 - first.y1, 1 - last.y0, seconds)
