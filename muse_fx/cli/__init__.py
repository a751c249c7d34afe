"""The `muse-fx` command line. Subcommands load lazily, so `muse-fx --help` does not wait for torch."""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import click

from muse_fx import __version__

SUBCOMMANDS = {
    "enhance": "muse_fx.cli.enhance:enhance",
    "presets": "muse_fx.cli.presets:presets",
    "models": "muse_fx.cli.model_info:models",
    "serve": "muse_fx.cli.serve:serve",
    "eval": "muse_fx.cli.evaluate:evaluate",
    "data": "muse_fx.cli.data:data",
    "train": "muse_fx.cli.train:train",
    "audacity": "muse_fx.cli.audacity:audacity",
    "integrations": "muse_fx.cli.integrations:integrations",
    "audition": "muse_fx.cli.audition:audition",
}


@contextmanager
def _plain_warnings() -> Iterator[None]:
    """muse_fx's own warnings as one `! …` line, not Python's `file:line: UserWarning` and source line."""
    from muse_fx.errors import MuseFxWarning

    python_way = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, MuseFxWarning):
            return python_way(message, category, filename, lineno, file, line)
        from tqdm import tqdm

        with tqdm.external_write_mode(file=sys.stderr):  # above any progress bar, not through it
            click.secho(f"! {message}", err=True, fg="yellow")

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = python_way


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx, name):
        if name not in SUBCOMMANDS:
            return None
        module, attribute = SUBCOMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attribute)

    def invoke(self, ctx):
        from muse_fx.errors import MuseFxError, on_the_command_line

        try:
            with _plain_warnings():
                return super().invoke(ctx)
        except MuseFxError as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.secho(f"error: {on_the_command_line(error)}", err=True, fg="red")
            sys.exit(1)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="muse-fx")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.pass_context
def main(ctx, debug):
    """Make music recordings sound studio-clean (mel2mel + diffusion musecoder)."""
    ctx.ensure_object(dict)["debug"] = debug
