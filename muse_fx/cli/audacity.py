"""`muse-fx audacity enhance-selection`: enhance what is selected in a running Audacity, as a new track."""

from __future__ import annotations

import sys

import click

from muse_fx.cli.setting_options import setting_option
from muse_fx.settings import LEVELS


def _level_options(command):
    """--<name> for each of the panel's sliders (LEVELS), as `muse-fx enhance` offers it."""
    for setting in reversed(LEVELS):
        command = setting_option(setting)(command)
    return command


@click.group()
def audacity():
    """Work inside a running Audacity through its mod-script-pipe module."""


@audacity.command("enhance-selection")
@click.option("--server", metavar="URL", help="Enhance on this muse-fx server instead of on this machine.")
@click.option("--preset", metavar="NAME", help="Preset to enhance with. [default: the default preset]")
@click.option(
    "--timeout",
    metavar="SECONDS",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="How long to wait for each answer from Audacity.",
)
@_level_options
@click.option("--fallback-local", is_flag=True, help="If the server cannot be reached, enhance on this machine.")
def enhance_selection(server, preset, timeout, fallback_local, **levels):
    """Enhance the selected range of each selected track into a new track named '<track> (muse_fx)' (then
    '(muse_fx 2)'… for later takes).

    The new track starts where the selection starts; the original tracks and the selection are left as they
    were, so the result can be compared with the source by soloing each in turn.
    """
    from muse_fx.integrations.audacity import enhance_selection as run
    from muse_fx.integrations.audacity_pipe import AudacityPipe
    from muse_fx.interrupts import exit_status, stop_signals_interrupt

    # SIGTERM/SIGHUP unwind like Ctrl-C: Audacity's export setting is put back, the temporary WAVs are deleted.
    added: list[str] = []  # reported as each is added: an interruption waits until the track is complete

    def report(name: str) -> None:
        added.append(name)
        click.echo(f"added track {name!r}")

    with stop_signals_interrupt():
        try:
            with AudacityPipe(timeout=timeout) as pipe:  # first: a closed Audacity is reported before a model loads
                from muse_fx.files import make_enhance_file

                enhance_file = make_enhance_file(server=server, preset=preset, fallback_local=fallback_local, **levels)
                run(pipe, enhance_file, on_added=report)
        except KeyboardInterrupt as interrupt:
            done = "the tracks listed above were added, the unfinished one was not" if added else "no track was added"
            click.echo(
                f"interrupted: {done}; Audacity's export setting is as it was and no temporary files were left",
                err=True,
            )
            sys.exit(exit_status(interrupt))


@audacity.command()
def panel():
    """A small always-on-top window: pick a preset, set the sliders, then enhance or audition the selection.

    Settings are kept for next time. The server field, when filled, runs the model on that `muse-fx serve`.
    """
    from muse_fx.errors import MuseFxError

    try:
        from muse_fx.integrations.audacity_panel import run_panel
    except ImportError as error:  # Python built without Tk
        raise MuseFxError(
            f"the panel needs Tk, which this Python lacks ({error}): install it (Debian/Ubuntu: "
            "sudo apt install python3-tk; macOS/Windows: the python.org installer has it)"
        ) from None
    sys.exit(run_panel())
