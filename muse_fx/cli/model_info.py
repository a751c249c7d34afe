"""`muse-fx models list|info`: what is bundled and how it was made."""

import click

from muse_fx.engine.registry import default_model_name, get_entry, list_models


@click.group()
def models():
    """Bundled models."""


@models.command("list")
def list_command():
    """Name, version, sample rate and date of each bundled model."""
    entries = list_models()
    if not entries:
        click.echo("no models are bundled with this copy of muse_fx")
    default = default_model_name()
    for entry in entries:
        mark = "*" if entry.name == default else " "
        click.echo(f"{mark} {entry.name:<24} {entry.version:<8} {entry.sample_rate} Hz  {entry.date}  {entry.file}")


@models.command("info")
@click.argument("name", default="default")
def info(name):
    """Everything the registry knows about one model (NAME defaults to the default model)."""
    entry = get_entry(name)
    for key in ("name", "version", "file", "sha256", "sample_rate", "date", "hardware", "recipe"):
        click.echo(f"{key:<12} {getattr(entry, key)}")
    click.echo(f"{'path':<12} {entry.path}")
    config = entry.config
    click.echo(f"{'mel2mel':<12} ngf {config.mel2mel.ngf}, {config.mel2mel.n_blocks} residual blocks")
    m = config.musecoder
    layers = f"{m.residual_channels} channels × {m.residual_layers} layers"
    click.echo(f"{'musecoder':<12} {layers}, dilation cycle {m.dilation_cycle}")
    card = entry.path.with_name(entry.card) if entry.card else None
    if card and card.is_file():
        click.echo(f"\n{card.read_text()}")
