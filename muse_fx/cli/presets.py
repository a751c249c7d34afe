"""`muse-fx presets list|show NAME`."""

import click

from muse_fx.presets.files import available, user_dir


@click.group()
def presets():
    """Bundled and user presets (chains of MuseEnhance and pedalboard plugins)."""


@presets.command("list")
def list_command():
    """Every preset name with its one-line description."""
    for name, path in sorted(available().items()):
        click.echo(f"{name:<18} {_description(path)}")
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


def _description(path) -> str:
    """A preset's one-line description; a file that cannot be read says so instead of ending the list."""
    import tomllib

    try:
        description = tomllib.loads(path.read_text()).get("description", "")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return f"! {path} is not a valid preset file ({error}); fix or remove it"
    return description if isinstance(description, str) else ""
