"""`muse-fx enhance`: files, folders and globs in; enhanced files out, never losing an input or an output."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click
from tqdm import tqdm

from ..audio_io import FORMATS
from ..devices import DEVICES
from ..errors import MuseFxError
from ..interrupts import Stopped, exit_status, stop_signals_interrupt
from ..parameters import MAX_SEED, MUSECODERS
from .inputs import expand, plan_outputs
from .progress_bar import AudioBar
from .progress_file import ProgressFile

SKIPPED_LISTED = 10  # a folder of 500 PDFs should not bury the summary


def build_board(preset, **settings):
    """A muse_fx.Pedalboard from a preset, or a lone MuseEnhance; settings given on the command line win."""
    from ..board import Pedalboard
    from ..plugin import MuseEnhance
    from ..presets import load_preset

    settings = {k: v for k, v in settings.items() if v is not None and v is not False}
    if preset:
        return load_preset(preset, **settings)
    return Pedalboard([MuseEnhance(**settings)])


def musecoder_help() -> str:
    """--musecoder's help, read from the registry so that it says what actually runs."""
    from ..registry import get_entry

    measured = get_entry("default").default_musecoder
    if set(measured) >= {"cpu", "cuda", "mps"} and len(set(measured.values())) == 1:
        bundled = f"{measured['cpu']} on every device"
    else:
        bundled = ", ".join(f"{musecoder} on {device}" for device, musecoder in measured.items())
    return (f"fast or diffusion.  [default: {bundled} for the bundled model; for a model file, fast on CPU and "
            "diffusion on a GPU]")


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output file (one input only).")
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), help="Folder for the outputs.")
@click.option("--suffix", default="_enhanced", show_default=True, help="Added to the name when writing beside the input.")
@click.option("-r", "--recursive", is_flag=True, help="Look into sub-folders of folder inputs.")
@click.option("--preset", help="Preset name (`muse-fx presets list`) or .toml file.")
@click.option("--model", help="Bundled model name or .safetensors path.  [default: default]")
@click.option("--mix", type=click.FloatRange(0, 1), help="Dry/wet: 0 = original, 1 = fully enhanced.")
@click.option("--strength", type=click.FloatRange(0, 1),
              help="How far noise and reverb may be cut: 0 = no cuts, 1 = the model's full reduction.  [default: 1]")
@click.option("--musecoder", type=click.Choice(MUSECODERS), help=musecoder_help())
@click.option("--steps", type=click.Choice(["6", "50"]), help="Diffusion steps: 6 (fast schedule) or 50 (paper).")
@click.option("--device", type=click.Choice(DEVICES), help="Where to run.  [default: auto]")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="Seed for diffusion noise (same seed, same output).")
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), help="Output format.  [default: the input's]")
@click.option("--subtype", help="Output sample format, e.g. PCM_16, PCM_24, FLOAT.  [default: the input's]")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("--plot", is_flag=True, help="Also write a before/after spectrogram PNG next to each output.")
@click.option("--start", type=click.FloatRange(min=0), default=0.0, help="Seconds into the input to start at.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Seconds of input to enhance.")
@click.option("--progress-file", type=click.Path(path_type=Path, dir_okay=False), help="Status file for DAW scripts.")
@click.option("--server", help="URL of a `muse-fx serve` instance to run the enhancement on.")
@click.option("--fallback-local", is_flag=True, help="If the server cannot be reached, enhance locally instead.")
@click.pass_context
def enhance(ctx, inputs, output, output_dir, suffix, recursive, preset, fmt, subtype, overwrite, plot,
            start, duration, progress_file, **settings):
    """Enhance audio files (WAV, FLAC, AIFF, OGG, MP3) and the sound of phone recordings and videos (M4A, AAC,
    Opus, MP4, MOV, MKV, WebM…, written as FLAC): INPUT can be files, folders or quoted globs."""
    debug = ctx.obj.get("debug", False) if ctx.obj else False
    status = ProgressFile(progress_file)
    with stop_signals_interrupt():  # SIGTERM/SIGHUP clean up like Ctrl-C
        status.write("running", 0.0, "loading model")
        try:
            files, skipped = expand(inputs, recursive)
            pairs = plan_outputs(files, output, output_dir, suffix, fmt)
            if (start or duration) and len(pairs) > 1:
                raise click.UsageError("--start/--duration apply to a single input")
            if output_dir:
                output_dir.mkdir(parents=True, exist_ok=True)
            settings["steps"] = int(settings["steps"]) if settings["steps"] else None
            board = build_board(preset, **settings)
        except (MuseFxError, click.UsageError) as error:
            status.write("error", 0.0, str(error))
            raise
        except KeyboardInterrupt as interrupt:
            _stopped(status, interrupt, "nothing was written")
        failures = _run(board, pairs, status, debug, start=start, duration=duration, fmt=fmt, subtype=subtype,
                        overwrite=overwrite, plot=plot)
    _summarise(pairs, failures, skipped)
    if failures:
        status.write("error", 1.0, failures[0][1])
        sys.exit(1)
    status.write("done", 1.0, str(pairs[-1][1]))


def _summarise(pairs: list[tuple[Path, Path]], failures: list[tuple[Path, str]], skipped: list[Path]) -> None:
    if len(pairs) == 1 and not skipped:
        return
    ok = len(pairs) - len(failures)
    click.echo(f"\n{ok} of {len(pairs)} file(s) enhanced" + (f", {len(failures)} failed:" if failures else ""), err=True)
    for source, message in failures:
        click.echo(f"  ✗ {message}", err=True)
    if skipped:
        click.echo(f"skipped {len(skipped)} file(s) that are not audio muse-fx reads:", err=True)
        for path in skipped[:SKIPPED_LISTED]:
            click.echo(f"  - {path}", err=True)
        if len(skipped) > SKIPPED_LISTED:
            click.echo(f"  … and {len(skipped) - SKIPPED_LISTED} more", err=True)


def _stopped(status: ProgressFile, interrupt: KeyboardInterrupt, what: str) -> NoReturn:
    reason = f"stopped by {interrupt}" if isinstance(interrupt, Stopped) else "interrupted"
    click.echo(f"\n{reason}: {what}", err=True)
    status.write("error", 0.0, reason)
    sys.exit(exit_status(interrupt))


def _run(board, pairs, status, debug, **options) -> list[tuple[Path, str]]:
    from ..files import enhance_file

    failures = []
    files_bar = tqdm(total=len(pairs), desc="files", unit="file", disable=len(pairs) == 1 or None, position=1)
    for number, (source, destination) in enumerate(pairs):
        def report(fraction, number=number, name=source.name):
            status.write("running", (number + fraction) / len(pairs), f"enhancing {name}")

        try:
            with AudioBar(source.name, report) as bar:
                result = enhance_file(board, source, destination, progress=bar.progress, **options)
        except KeyboardInterrupt as interrupt:
            _stopped(status, interrupt, f"{destination} was not written; no partial files were left")
        except MuseFxError as error:
            failures.append((source, str(error)))
            click.secho(f"✗ {error}", err=True, fg="red")
        except Exception as error:  # a bug, not bad input: keep the batch going, say how to get details
            if debug:
                traceback.print_exc()
            message = f"{source}: unexpected {type(error).__name__}: {error} (run `muse-fx --debug enhance …` for details)"
            failures.append((source, message))
            click.secho(f"✗ {message}", err=True, fg="red")
        else:
            for warning in result.warnings:
                click.secho(f"! {warning}", err=True, fg="yellow")
            click.echo(f"✓ {source} → {destination} ({result.seconds:.1f} s)", err=True)
        finally:
            files_bar.update(1)
    files_bar.close()
    return failures


def make_enhance_file(server: str | None = None, preset: str | None = None, fallback_local: bool = False,
                      progress: Callable[[float, float], None] | None = None, **settings):
    """`(source, destination) -> None` for the DAW adapters: the same board and checks as `muse-fx enhance`.

    `settings` (strength, mix…) override the preset's; `progress(done, total)` counts seconds of each file.
    The adapters own `destination` (a temp file they created), hence overwrite=True.
    """
    from ..files import enhance_file

    board = build_board(preset, server=server, fallback_local=fallback_local, **settings)

    def enhance(source: Path, destination: Path) -> None:
        enhance_file(board, Path(source), Path(destination), overwrite=True, progress=progress)

    return enhance
