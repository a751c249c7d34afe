"""`muse-fx models list|info`: what is bundled and how it was made."""

import click

from muse_fx.engine.model_config import Mel2MelConfig, MusecoderConfig
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
    click.echo(f"{'mel2mel':<12} {_mel2mel(entry.config.mel2mel)}")
    click.echo(f"{'musecoder':<12} {_musecoder(entry.config.musecoder)}")
    card = entry.path.with_name(entry.card) if entry.card else None
    if card and card.is_file():
        click.echo(f"\n{card.read_text()}")


def _mel2mel(config: Mel2MelConfig) -> str:
    size = f"ngf {config.ngf}, {config.n_blocks} residual blocks"
    if not config.split_band:
        return size
    return f"two generators ({size} each): mel bands below {config.split_band}, and from {config.split_band} up"


def _musecoder(config: MusecoderConfig | None) -> str:
    if config is None:  # a fast-path-only model, such as full-band
        return "none (renders with the fast path only)"
    layers = f"{config.residual_channels} channels × {config.residual_layers} layers"
    return f"{layers}, dilation cycle {config.dilation_cycle}"
