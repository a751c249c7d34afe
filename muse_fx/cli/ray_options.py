"""The `--ray` option `enhance` and `serve` share; nothing here imports Ray."""

from __future__ import annotations

import click

from muse_fx.scale.cluster import DEFAULT, check_address


def _address(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    try:
        return None if value is None else check_address(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


ray_option = click.option(
    "--ray",
    "ray_address",
    is_flag=False,
    flag_value=DEFAULT,
    default=None,
    callback=_address,
    metavar="[local|auto|ADDRESS]",
    help="Run on Ray (the `ray` extra): local starts a private cluster here, auto joins $RAY_ADDRESS or "
    "the one on this machine, ray://HOST:10001 or HOST:PORT joins that one (docs/scale-out.md).",
)
