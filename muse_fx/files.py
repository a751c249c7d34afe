"""Enhancing files: one file read, checked, processed and written atomically (`enhance_file`), optionally pictured;
and one file of a batch (`attempt`), where any failure becomes a message that names the file.

The command line, its Ray workers, the DAW adapters and scripts all go through `enhance_file`, with the board
`build_board` makes from the command line's settings, so every entry point gets the same checks and the same
guarantee that nothing the user had is lost. Files stream through the board in blocks (pedalboard's `reset=False`
protocol), so memory stays flat for an hour-long, 8-channel, 96 kHz recording.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile

from muse_fx.board import can_stream
from muse_fx.errors import (
    AudioInputError,
    MuseFxError,
    NonFiniteOutputError,
    PresetError,
    on_the_command_line,
    printable,
)
from muse_fx.io.arrays import AudioInfo, check_finite
from muse_fx.io.atomic import atomic_path, scratch_folder, sweep_debris
from muse_fx.io.audio_files import (
    OutputError,
    check_writable,
    choose_subtype,
    cut_short,
    native,
    output_format,
    probe,
    read_blocks,
    span,
)
from muse_fx.loudness import LoudnessMeter, MakeUp

CLIP_LEVEL = 0.999
SILENCE_LEVEL = 1e-6  # peak below −120 dBFS
BLOCK_SECONDS = 10.0
PLOT_SECONDS = 300.0  # pictures show the first five minutes: enough to judge, bounded memory


@dataclass
class FileResult:
    source: Path
    destination: Path
    info: AudioInfo
    seconds: float
    warnings: list[str] = field(default_factory=list)


@dataclass
class Levels:
    """Running peak and clip count of a signal seen block by block, and its loudness where a preset needs it."""

    peak: float = 0.0
    clipped: int = 0
    samples: int = 0
    meter: LoudnessMeter | None = None

    def update(self, block: np.ndarray) -> None:
        magnitude = np.abs(block)
        self.peak = max(self.peak, float(magnitude.max(initial=0.0)))
        self.clipped += int(np.count_nonzero(magnitude >= CLIP_LEVEL))
        self.samples += block.size
        if self.meter:
            self.meter.update(block)

    @property
    def silent(self) -> bool:
        return self.peak < SILENCE_LEVEL


def _plot_path(destination: Path) -> Path:
    return destination.with_name(destination.name + ".png")


def _processor(board, sample_rate: int) -> Callable[[np.ndarray, bool], np.ndarray]:
    """(block, last) → output: streamed through `board`, or gathered and processed whole at the end."""
    if can_stream(board):
        board.reset()
        return lambda block, last: board.process(block, sample_rate, reset=last)
    gathered: list[np.ndarray] = []

    def whole(block: np.ndarray, last: bool) -> np.ndarray:
        gathered.append(block)
        if not last:
            return block[:, :0]
        audio = np.concatenate(gathered, axis=1)
        return board.enhance(audio, sample_rate) if hasattr(board, "enhance") else board(audio, sample_rate)

    return whole


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
    progress: Callable[[float, float], None] | None = None,
) -> FileResult:
    """Enhance `source` (or the part `start`/`duration` seconds selects) into `destination`.

    `board` is a MuseEnhance, a Pedalboard or any callable (audio, sample_rate) → audio. The output keeps the
    input's sample rate, channel count and, unless `subtype` says otherwise, its bit depth.
    `progress(done, total)` counts seconds of input audio. Without `overwrite` a file that appears at
    `destination` while this runs is left alone too (DestinationAppearedError says where the result went instead).
    """
    began = time.time()
    info = probe(source)  # a missing or broken input is the first thing to report
    check_writable(destination, overwrite, inputs={source})
    if plot:
        check_writable(_plot_path(destination), overwrite, inputs={source})
    first, count = span(source, info, start, duration)
    fmt = output_format(destination, fmt, info.format)
    subtype = choose_subtype(fmt, subtype, info.subtype)
    rate = info.sample_rate
    sweep_debris(destination.parent, older_than=began)
    # Pass 1 renders float audio to a scratch file; pass 2 writes the target format, scaled if it would clip.
    try:
        with scratch_folder(destination) as scratch_dir:
            scratch = scratch_dir / "float.wav"
            levels_in, levels_out = _render(board, source, first, count, info, scratch, progress)
            read = levels_in.samples // info.channels
            make_up = _make_up(board, levels_in, levels_out)
            warnings = [
                *_cut_short(source, info, first, count, read),
                *_warnings(source, destination, levels_in, levels_out, subtype),
                *_short_of(destination, make_up),
            ]
            _write_target(scratch, destination, info, fmt, subtype, levels_in, levels_out, make_up, replace=overwrite)
    except MuseFxError:  # the board's own failures (a server that refused, say) are not about the disk
        raise
    except (OSError, soundfile.LibsndfileError) as error:
        raise OutputError(
            f"{destination}: could not be written ({error}); check the folder's permissions and free space"
        ) from None
    if plot:
        _plot(source, first, read, destination, rate)
    return FileResult(source, destination, info, read / rate, warnings)


def _render(board, source, first, count, info, scratch, progress) -> tuple[Levels, Levels]:
    metered = getattr(board, "loudness", None) is not None
    levels_in, levels_out = (
        Levels(meter=LoudnessMeter(info.sample_rate, info.channels) if metered else None) for _ in range(2)
    )
    process = _processor(board, info.sample_rate)
    size = int(BLOCK_SECONDS * info.sample_rate)
    done = 0
    if progress:
        progress(0.0, count / info.sample_rate)
    with soundfile.SoundFile(native(scratch), "w", info.sample_rate, info.channels, "FLOAT", format="RF64") as out:
        for block, last in _marking_last(read_blocks(source, first, count, size)):
            if not np.all(np.isfinite(block)):
                raise AudioInputError(
                    f"{source}: contains NaN or infinite samples; the file is damaged — repair or re-export it"
                )
            levels_in.update(block)
            done += block.shape[1]
            try:
                output = np.asarray(process(block, last), dtype=np.float32)
                check_finite(output, lambda: f"{board!r}", "check what it does to audio")
            except (AudioInputError, NonFiniteOutputError, PresetError) as error:
                raise type(error)(f"{source}: {error}") from None  # deeper checks know the array, not the file
            levels_out.update(output)
            out.write(output.T)
            if progress:
                progress(done / info.sample_rate, count / info.sample_rate)
    return levels_in, levels_out


def _marking_last(blocks: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, bool]]:
    """(block, whether it is the last): read one ahead, so a file that ends early still ends its stream."""
    held = None
    for block in blocks:
        if held is not None:
            yield held, False
        held = block
    if held is not None:
        yield held, True


def _cut_short(source: Path, info: AudioInfo, first: int, count: int, read: int) -> list[str]:
    words = cut_short(source, info, first, count, read)
    return [f"{words}; enhanced the part that is there — re-copy or re-export the file for the rest"] if words else []


def _would_clip(levels_out: Levels, subtype: str) -> bool:
    """Output above full scale clips in fixed-point formats; float formats store it as it is."""
    return levels_out.peak > 1.0 and not subtype.startswith(("FLOAT", "DOUBLE"))


def _make_up(board, levels_in: Levels, levels_out: Levels) -> MakeUp | None:
    """The preset's loudness make-up for this file; `levels_out.peak` becomes the peak after it."""
    if levels_in.meter is None or levels_out.meter is None:
        return None
    make_up = board.loudness.make_up(levels_in.meter.integrated, levels_out.meter.integrated, levels_out.peak)
    levels_out.peak *= make_up.factor
    return make_up


def _short_of(destination: Path, make_up: MakeUp | None) -> list[str]:
    if make_up is None or not make_up.short:
        return []
    return [
        f"{destination}: reached {make_up.reached:.1f} LUFS, not the preset's {make_up.wanted:.1f}: its peak "
        "ceiling stopped the make-up gain"
    ]


def _write_target(
    scratch: Path,
    destination: Path,
    info: AudioInfo,
    fmt: str,
    subtype: str,
    levels_in: Levels,
    levels_out: Levels,
    make_up: MakeUp | None,
    replace: bool,
) -> None:
    """The rendered float audio → the target format, atomically; silence stays exact, clipping is avoided."""
    gain = CLIP_LEVEL / levels_out.peak if _would_clip(levels_out, subtype) else 1.0
    gain *= make_up.factor if make_up else 1.0
    rate = info.sample_rate
    with (
        atomic_path(destination, replace=replace) as tmp,
        soundfile.SoundFile(native(tmp), "w", rate, info.channels, subtype, format=fmt) as out,
    ):
        for block in read_blocks(scratch, 0, levels_out.samples // info.channels, int(BLOCK_SECONDS * rate)):
            out.write((np.zeros_like(block) if levels_in.silent else block * gain).T)


def _warnings(source: Path, destination: Path, levels_in: Levels, levels_out: Levels, subtype: str) -> list[str]:
    if levels_in.silent:
        return [f"{source}: is silent (peak below −120 dBFS); wrote silence"]
    warnings = []
    if levels_in.clipped > 0.0005 * levels_in.samples:
        warnings.append(
            f"{source}: {levels_in.clipped} samples are clipped at full scale; muse-fx cleans noise and room but "
            "cannot rebuild clipped peaks — record with lower input gain if you can"
        )
    if _would_clip(levels_out, subtype):
        warnings.append(
            f"{destination}: output peaked at {levels_out.peak:.2f}; scaled down "
            f"{20 * np.log10(levels_out.peak / CLIP_LEVEL):.1f} dB to avoid clipping"
        )
    return warnings


def _plot(source: Path, first: int, count: int, destination: Path, rate: int) -> None:
    from muse_fx.plot import save_spectrograms

    frames = min(count, int(PLOT_SECONDS * rate))
    panels = {"before": _mono(source, first, frames, rate), "after": _mono(destination, 0, frames, rate)}
    save_spectrograms(panels, rate, _plot_path(destination), printable(source.name))


def _mono(path: Path, first: int, frames: int, rate: int) -> np.ndarray:
    """`frames` of `path` mixed to mono block by block: many channels cost no more memory than one."""
    blocks = read_blocks(path, first, frames, int(BLOCK_SECONDS * rate))
    return np.concatenate([block.mean(axis=0) for block in blocks])


def build_board(preset, **settings):
    """A muse_fx.Pedalboard from a preset, or a lone MuseEnhance; settings given on the command line win."""
    from muse_fx.board import Pedalboard
    from muse_fx.plugin import MuseEnhance
    from muse_fx.presets.chains import load_preset

    settings = {k: v for k, v in settings.items() if v is not None and v is not False}
    if preset:
        return load_preset(preset, **settings)
    return Pedalboard([MuseEnhance(**settings)])


@dataclass
class Outcome:
    """One file of a batch: enhanced (with its warnings) or failed (with a message that names it)."""

    source: Path
    destination: Path
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    trace: str | None = None  # a bug's traceback, which `muse-fx --debug` shows


def attempt(board, source: Path, destination: Path, **options) -> Outcome:
    """`enhance_file`, except that a bad file, or a bug, becomes a failed Outcome: one file never stops a batch."""
    try:
        result = enhance_file(board, source, destination, **options)
    except MuseFxError as error:
        return Outcome(source, destination, error=on_the_command_line(error))
    except Exception as error:  # a bug, not bad input: keep the batch going, say how to get details
        message = f"{source}: unexpected {type(error).__name__}: {error} (run `muse-fx --debug enhance …` for details)"
        return Outcome(source, destination, error=message, trace=traceback.format_exc())
    return Outcome(source, destination, result.seconds, result.warnings)


def make_enhance_file(
    server: str | None = None,
    preset: str | None = None,
    fallback_local: bool = False,
    progress: Callable[[float, float], None] | None = None,
    **settings,
):
    """`(source, destination) -> None` for the DAW adapters: the same board and checks as `muse-fx enhance`.

    `settings` (MuseEnhance's, muse_fx.settings.PRESET) override the preset's; `progress(done, total)` counts
    seconds of each file.
    The adapters own `destination` (a temp file they created), hence overwrite=True.
    """
    board = build_board(preset, server=server, fallback_local=fallback_local, **settings)

    def enhance(source: Path, destination: Path) -> None:
        enhance_file(board, Path(source), Path(destination), overwrite=True, progress=progress)

    return enhance
