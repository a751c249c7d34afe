"""Enhancing one file: read, check, process, write atomically, optionally picture it.

The command line, the DAW adapters and scripts all go through `enhance_file`, so every entry point gets the
same checks and the same guarantee that nothing the user had is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .audio_io import AudioInfo, check_writable, choose_subtype, output_format, probe, read_audio, write_audio
from .errors import AudioInputError

CLIP_LEVEL = 0.999
SILENCE_LEVEL = 1e-6  # peak below −120 dBFS


@dataclass
class FileResult:
    source: Path
    destination: Path
    info: AudioInfo
    seconds: float
    warnings: list[str] = field(default_factory=list)


def _plot_path(destination: Path) -> Path:
    return destination.with_name(destination.name + ".png")


def enhance_file(
    board: Callable,
    source: Path,
    destination: Path,
    *,
    start: float = 0.0,
    duration: float | None = None,
    fmt: str | None = None,
    subtype: str | None = None,
    overwrite: bool = False,
    plot: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> FileResult:
    """Enhance `source` (or the part `start`/`duration` seconds selects) into `destination`.

    `board` is a MuseEnhance, a Pedalboard or any callable (audio, sample_rate) → audio. The output keeps the
    input's sample rate, channel count and, unless `subtype` says otherwise, its bit depth.
    """
    probe(source)  # a missing or broken input is the first thing to report
    check_writable(destination, overwrite, inputs={source})
    if plot:
        check_writable(_plot_path(destination), overwrite, inputs={source})
    audio, info = read_audio(source, start, duration)
    fmt = output_format(destination, fmt, info.format)
    subtype = choose_subtype(fmt, subtype, info.subtype)
    warnings = []
    if not np.all(np.isfinite(audio)):
        raise AudioInputError(f"{source}: contains NaN or infinite samples; the file is damaged — repair or re-export it")
    peak = float(np.abs(audio).max())
    if peak < SILENCE_LEVEL:
        warnings.append(f"{source}: is silent (peak below −120 dBFS); wrote silence")
        enhanced = np.zeros_like(audio)
    else:
        clipped = int(np.count_nonzero(np.abs(audio) >= CLIP_LEVEL))
        if clipped > 0.0005 * audio.size:
            warnings.append(
                f"{source}: {clipped} samples are clipped at full scale; muse-fx cleans noise and room but cannot "
                "rebuild clipped peaks — record with lower input gain if you can"
            )
        try:
            enhanced = _process(board, audio, info.sample_rate, progress)
        except AudioInputError as error:  # checks deeper down know the array, not the file: name it here
            raise AudioInputError(f"{source}: {error}") from None
    out_peak = float(np.abs(enhanced).max()) if enhanced.size else 0.0
    if out_peak > 1.0 and not subtype.startswith(("FLOAT", "DOUBLE")):
        enhanced = enhanced * (CLIP_LEVEL / out_peak)
        warnings.append(f"{destination}: output peaked at {out_peak:.2f}; scaled down {20 * np.log10(out_peak / CLIP_LEVEL):.1f} dB to avoid clipping")
    write_audio(destination, enhanced, info.sample_rate, fmt, subtype)
    if plot:
        from .plot import save_spectrograms

        save_spectrograms({"before": audio, "after": enhanced}, info.sample_rate, _plot_path(destination), source.name)
    return FileResult(source, destination, info, audio.shape[1] / info.sample_rate, warnings)


def _process(board, audio: np.ndarray, sample_rate: int, progress) -> np.ndarray:
    """Run the board offline; MuseEnhance and muse_fx.Pedalboard report chunk progress."""
    if hasattr(board, "enhance"):
        return board.enhance(audio, sample_rate, progress=progress)
    return np.asarray(board(audio, sample_rate), dtype=np.float32)
