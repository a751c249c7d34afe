"""One file of a batch, the same for `muse-fx enhance`, its Ray workers and the DAW adapters: the board built from
the command line's settings, an attempt that turns any failure into a message, and the line that reports it."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click

from muse_fx.errors import MuseFxError, on_the_command_line


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


def attempt(board, source: Path, destination: Path, debug: bool = False, **options) -> Outcome:
    """`enhance_file`, except that a bad file, or a bug, becomes a failed Outcome: one file never stops a batch."""
    from muse_fx.files import enhance_file

    try:
        result = enhance_file(board, source, destination, **options)
    except MuseFxError as error:
        return Outcome(source, destination, error=on_the_command_line(error))
    except Exception as error:  # a bug, not bad input: keep the batch going, say how to get details
        if debug:
            traceback.print_exc()
        message = f"{source}: unexpected {type(error).__name__}: {error} (run `muse-fx --debug enhance …` for details)"
        return Outcome(source, destination, error=message)
    return Outcome(source, destination, result.seconds, result.warnings)


def print_outcome(outcome: Outcome, failures: list[tuple[Path, str]]) -> None:
    """Print a file's ✓ or ✗ line and its warnings; a failure joins `failures`."""
    if outcome.error is not None:
        failures.append((outcome.source, outcome.error))
        click.secho(f"✗ {outcome.error}", err=True, fg="red")
        return
    for warning in outcome.warnings:
        click.secho(f"! {warning}", err=True, fg="yellow")
    click.echo(f"✓ {outcome.source} → {outcome.destination} ({outcome.seconds:.1f} s)", err=True)


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
    from muse_fx.files import enhance_file

    board = build_board(preset, server=server, fallback_local=fallback_local, **settings)

    def enhance(source: Path, destination: Path) -> None:
        enhance_file(board, Path(source), Path(destination), overwrite=True, progress=progress)

    return enhance
