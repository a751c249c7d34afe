"""`muse-fx enhance`: files, folders and globs in; enhanced files out, never losing an input or an output."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click
from tqdm import tqdm

from muse_fx.cli.inputs import expand, plan_outputs
from muse_fx.cli.progress_bar import AudioBar
from muse_fx.cli.progress_file import ProgressFile
from muse_fx.cli.ray_options import ray_option
from muse_fx.cli.setting_options import setting_option
from muse_fx.engine.devices import DEVICES
from muse_fx.errors import MuseFxError
from muse_fx.files import Outcome, attempt, build_board
from muse_fx.interrupts import Stopped, exit_status, stop_signals_interrupt
from muse_fx.io.audio_files import FORMATS
from muse_fx.settings import DEVICE, MIX, MODEL, MUSECODER, PRECISION, SEED, STEPS, STRENGTH

if TYPE_CHECKING:
    from muse_fx.scale.batch import RayBatch

SKIPPED_LISTED = 10  # a folder of 500 PDFs should not bury the summary


def musecoder_help() -> str:
    """--musecoder's help, read from the registry so that it says what actually runs."""
    from muse_fx.engine.registry import get_entry

    measured = get_entry("default").default_musecoder
    if set(measured) >= {"cpu", "cuda", "mps"} and len(set(measured.values())) == 1:
        bundled = f"{measured['cpu']} on every device"
    else:
        bundled = ", ".join(f"{musecoder} on {device}" for device, musecoder in measured.items())
    return (
        f"{' or '.join(MUSECODER.choices)}.  [default: {bundled} for the bundled model; for a model file, fast on "
        "CPU and diffusion on a GPU]"
    )


def _plan(inputs, recursive, output, output_dir, suffix, fmt) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """(source, destination) for every input file, and what was skipped; the output folder is made here."""
    files, skipped = expand(inputs, recursive)
    pairs = plan_outputs(files, output, output_dir, suffix, fmt)
    if output_dir:
        output_dir.mkdir(parents=True, exist_ok=True)
    return pairs, skipped


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output file (one input only).")
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), help="Folder for the outputs.")
@click.option(
    "--suffix", default="_enhanced", show_default=True, help="Added to the name when writing beside the input."
)
@click.option("-r", "--recursive", is_flag=True, help="Look into sub-folders of folder inputs.")
@click.option("--preset", help="Preset name (`muse-fx presets list`) or .toml file.")
@setting_option(MODEL)
@setting_option(MIX)
@setting_option(STRENGTH)
@setting_option(MUSECODER, help=musecoder_help())
@setting_option(STEPS)
@setting_option(DEVICE, type=click.Choice(DEVICES))
@setting_option(SEED)
@setting_option(PRECISION)
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), help="Output format.  [default: the input's]")
@click.option("--subtype", help="Output sample format, e.g. PCM_16, PCM_24, FLOAT.  [default: the input's]")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("--plot", is_flag=True, help="Also write a before/after spectrogram PNG next to each output.")
@click.option("--start", type=click.FloatRange(min=0), default=0.0, help="Seconds into the input to start at.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Seconds of input to enhance.")
@click.option("--progress-file", type=click.Path(path_type=Path, dir_okay=False), help="Status file for DAW scripts.")
@click.option("--server", help="URL of a `muse-fx serve` instance to run the enhancement on.")
@click.option("--fallback-local", is_flag=True, help="If the server cannot be reached, enhance locally instead.")
@ray_option
@click.option(
    "--ray-workers",
    type=click.IntRange(min=1),
    help="Ray workers, each loading the model once.  [default: as many as the cluster's GPUs (or CPUs) hold]",
)
@click.option(
    "--ray-gpus-per-worker",
    type=click.FloatRange(min=0),
    help="GPUs per Ray worker; a fraction shares a GPU.  [default: 1 where the cluster has GPUs, else 0]",
)
@click.option(
    "--ray-cpus-per-worker",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="CPUs per Ray worker.",
)
@click.option(
    "--ray-ship",
    is_flag=True,
    help="Send each file's bytes to the Ray workers and write the results here (no shared storage).",
)
@click.pass_context
def enhance(
    ctx,
    inputs,
    output,
    output_dir,
    suffix,
    recursive,
    preset,
    fmt,
    subtype,
    overwrite,
    plot,
    start,
    duration,
    progress_file,
    ray_address,
    ray_workers,
    ray_gpus_per_worker,
    ray_cpus_per_worker,
    ray_ship,
    **settings,
):
    """Enhance audio files (WAV, FLAC, AIFF, OGG, MP3) and the sound of phone recordings and videos (M4A, AAC,
    Opus, MP4, MOV, MKV, WebM…, written as FLAC): INPUT can be files, folders or quoted globs."""
    debug = ctx.obj.get("debug", False) if ctx.obj else False
    status = ProgressFile(progress_file)
    with stop_signals_interrupt():  # SIGTERM/SIGHUP clean up like Ctrl-C
        status.write("running", 0.0, "loading model")
        try:
            pairs, skipped = _plan(inputs, recursive, output, output_dir, suffix, fmt)
            if (start or duration) and len(pairs) > 1:
                raise click.UsageError("--start/--duration apply to a single input")
            if ray_address is not None and settings["server"]:
                raise click.UsageError("--ray and --server both run the model elsewhere; choose one")
            make_board = partial(build_board, preset, **settings)
            board = make_board() if ray_address is None else None  # on Ray, each worker builds its own
        except (MuseFxError, click.UsageError) as error:
            status.write("error", 0.0, str(error))
            raise
        except KeyboardInterrupt as interrupt:
            _stopped(status, interrupt, "nothing was written")
        options = dict(start=start, duration=duration, fmt=fmt, subtype=subtype, overwrite=overwrite, plot=plot)
        if ray_address is None:
            failures = _run(board, pairs, status, debug, **options)
        else:
            from muse_fx.scale.batch import RayBatch

            batch = RayBatch(ray_address, ray_workers, ray_cpus_per_worker, ray_gpus_per_worker, ray_ship)
            pairs, failures = _run_on_ray(make_board, pairs, batch, status, debug, **options)
    _summarise(pairs, failures, skipped)
    if failures:
        status.write("error", 1.0, failures[0][1])
        sys.exit(1)
    status.write("done", 1.0, str(pairs[-1][1]) if pairs else "nothing to do")


def _summarise(pairs: list[tuple[Path, Path]], failures: list[tuple[Path, str]], skipped: list[Path]) -> None:
    if len(pairs) == 1 and not skipped:
        return
    ok = len(pairs) - len(failures)
    click.echo(
        f"\n{ok} of {len(pairs)} file(s) enhanced" + (f", {len(failures)} failed:" if failures else ""), err=True
    )
    for _, message in failures:
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


def _print_outcome(outcome: Outcome, failures: list[tuple[Path, str]], debug: bool) -> None:
    """Print a file's ✓ or ✗ line and its warnings (with --debug, a bug's traceback first); a failure joins
    `failures`."""
    if debug and outcome.trace:
        click.echo(outcome.trace, err=True, nl=False)
    if outcome.error is not None:
        failures.append((outcome.source, outcome.error))
        click.secho(f"✗ {outcome.error}", err=True, fg="red")
        return
    for warning in outcome.warnings:
        click.secho(f"! {warning}", err=True, fg="yellow")
    click.echo(f"✓ {outcome.source} → {outcome.destination} ({outcome.seconds:.1f} s)", err=True)


def _run(board, pairs, status, debug, **options) -> list[tuple[Path, str]]:
    failures: list[tuple[Path, str]] = []
    files_bar = tqdm(total=len(pairs), desc="files", unit="file", disable=len(pairs) == 1 or None, position=1)
    for number, (source, destination) in enumerate(pairs):

        def report(fraction, number=number, name=source.name):
            status.write("running", (number + fraction) / len(pairs), f"enhancing {name}")

        try:
            with AudioBar(source.name, report) as bar:
                outcome = attempt(board, source, destination, progress=bar.progress, **options)
        except KeyboardInterrupt as interrupt:
            _stopped(status, interrupt, f"{destination} was not written; no partial files were left")
        finally:
            files_bar.update(1)
        _print_outcome(outcome, failures, debug)
    files_bar.close()
    return failures


def _run_on_ray(
    make_board: Callable, pairs: list[tuple[Path, Path]], batch: RayBatch, status: ProgressFile, debug: bool, **options
) -> tuple[list[tuple[Path, Path]], list[tuple[Path, str]]]:
    """(the pairs still to do, their failures): `muse-fx enhance --ray` skips outputs that exist unless told
    to overwrite, so a library run can be resumed (docs/scale-out.md)."""
    from muse_fx.scale.batch import enhance_on_ray

    pairs = pairs if options["overwrite"] else _skip_finished(pairs)
    failures: list[tuple[Path, str]] = []
    if not pairs:
        return pairs, failures
    try:
        with tqdm(total=len(pairs), desc="files", unit="file", disable=None) as bar:

            def finish(outcome: Outcome) -> None:
                _print_outcome(outcome, failures, debug)
                bar.update(1)
                status.write("running", bar.n / len(pairs), f"enhanced {outcome.source.name}")

            enhance_on_ray(make_board, pairs, batch, finish, **options)
    except KeyboardInterrupt as interrupt:
        _stopped(status, interrupt, "the files in progress were not written; no partial files were left")
    return pairs, failures


def _skip_finished(pairs: list[tuple[Path, Path]]) -> list[tuple[Path, Path]]:
    """The pairs whose output does not exist yet (outputs appear only once complete, so one that exists is done)."""
    todo = [(source, destination) for source, destination in pairs if not destination.exists()]
    if len(todo) < len(pairs):
        click.echo(f"skipping {len(pairs) - len(todo)} file(s) already enhanced (--overwrite redoes them)", err=True)
    return todo
