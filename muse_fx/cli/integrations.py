"""`muse-fx integrations install reaper`: put muse_fx's actions into a DAW in one step."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def integrations():
    """Install muse_fx into other applications."""


@integrations.command()
@click.argument("target", type=click.Choice(["reaper"]))
@click.option(
    "--resource-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Reaper's resource folder (Options > Show REAPER resource path). [default: the usual place]",
)
def install(target, resource_dir):
    """Copy the scripts into TARGET and register its actions (run with Reaper closed; safe to repeat)."""
    from muse_fx.integrations.reaper import install_reaper

    written = install_reaper(resource_dir)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(
        'Start Reaper: the Action list now has "muse_fx: Enhance selected items" and '
        '"muse_fx: Enhance time selection on selected tracks".'
    )
