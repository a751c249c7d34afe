"""`muse-fx presets list|show NAME`."""

import click

from muse_fx.presets.files import available, user_dir


@click.group()
def presets():
    """Bundled and user presets (chains of MuseEnhance and pedalboard plugins)."""


@presets.command("list")
def list_command():
    """Every preset name with its one-line description."""
    import tomllib

    for name, path in sorted(available().items()):
        description = tomllib.loads(path.read_text()).get("description", "")
        click.echo(f"{name:<18} {description}")
    click.echo(f"\nyour own presets go in {user_dir()} (same name = override)")


@presets.command("show")
@click.argument("name")
def show(name):
    """Print a preset's file."""
    from muse_fx.errors import PresetError

    found = available()
    if name not in found:
        raise PresetError(f"unknown preset {name!r}; available: {', '.join(sorted(found))}")
    click.echo(f"# {found[name]}")
    click.echo(found[name].read_text())
