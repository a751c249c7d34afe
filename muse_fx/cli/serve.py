"""`muse-fx serve`: load the models once and enhance over HTTP (docs/server.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from muse_fx.cli.ray_options import ray_option
from muse_fx.cli.setting_options import click_type
from muse_fx.engine.devices import resolve_device
from muse_fx.errors import MuseFxError, install_hint
from muse_fx.server.limits import ServerConfig, offered_limits
from muse_fx.settings import BATCH_SIZE, default_server_batch

POSITIVE = click.FloatRange(min=0, min_open=True)


def limit_options(command: Callable) -> Callable:
    """--max-upload-mb and the server's other limits, one option per limit that ServerConfig offers, with the
    default and help it declares; each reaches `command` under the field's name."""
    for limit in reversed(offered_limits()):
        option = click.option(
            limit.metadata["flag"] or f"--{limit.name.replace('_', '-')}",
            limit.name,
            default=limit.default,
            show_default=True,
            type=POSITIVE if isinstance(limit.default, float) else click.IntRange(min=1),
            help=limit.metadata["help"],
        )
        command = option(command)
    return command


@click.command("serve")
@click.option(
    "--model",
    "models",
    multiple=True,
    default=("default",),
    show_default=True,
    help="Bundled model name or .safetensors path; repeat to serve several (the first is the default).",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N or mps.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Any address but loopback needs a token.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding the bearer token [default: $MUSE_FX_TOKEN].",
)
@limit_options
@click.option(
    "--batch-size",
    type=click_type(BATCH_SIZE),
    help=f"{BATCH_SIZE.help} [{default_server_batch('cuda')} on CUDA, else {default_server_batch('cpu')}].",
)
@click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False), help="Serve HTTPS with this key…")
@click.option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False), help="…and this certificate.")
@ray_option
@click.option(
    "--replicas",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="With --ray: replicas, each loading the models once.",
)
@click.option(
    "--max-replicas", type=click.IntRange(min=1), help="With --ray: autoscale from --replicas up to this many."
)
@click.option(
    "--gpus-per-replica",
    type=click.FloatRange(min=0),
    help="With --ray: GPUs per replica, a fraction shares one.  [default: 1 where the cluster has GPUs]",
)
@click.option("--cpus-per-replica", default=1.0, show_default=True, type=POSITIVE, help="With --ray: CPUs per replica.")
def serve(
    models: tuple[str, ...],
    device: str,
    host: str,
    port: int,
    token_file: Path | None,
    batch_size: int | None,
    ssl_keyfile: str | None,
    ssl_certfile: str | None,
    ray_address: str | None,
    replicas: int,
    max_replicas: int | None,
    gpus_per_replica: float | None,
    cpus_per_replica: float,
    **limits: Any,
) -> None:
    """Serve enhancement over HTTP: models load once, concurrent requests share forward passes."""
    _require_server_packages()
    from muse_fx.backends.bearer_token import resolve_token
    from muse_fx.server.tokens import is_loopback, require_token_off_loopback

    if bool(ssl_keyfile) != bool(ssl_certfile):
        raise click.UsageError("--ssl-keyfile and --ssl-certfile go together")
    if ray_address is None and (replicas != 1 or max_replicas or gpus_per_replica is not None or cpus_per_replica != 1):
        raise click.UsageError("--replicas, --max-replicas, --gpus-per-replica and --cpus-per-replica need --ray")
    try:
        token = resolve_token(token_file)
        require_token_off_loopback(host, token)
    except MuseFxError as error:
        raise click.ClickException(str(error)) from None
    config = ServerConfig(token=token, **limits)
    guarded = " (token required)" if token else ""
    if not is_loopback(host) and not ssl_certfile:
        click.echo(
            "muse-fx: warning: plain HTTP off loopback sends the token and the audio in the clear; use "
            "--ssl-certfile/--ssl-keyfile, a TLS proxy or an SSH tunnel (docs/server.md)",
            err=True,
        )
    if ray_address is not None:
        ssl = {"ssl_keyfile": ssl_keyfile, "ssl_certfile": ssl_certfile} if ssl_certfile else None
        scaling = dict(replicas=replicas, max_replicas=max_replicas, cpus=cpus_per_replica, gpus=gpus_per_replica)
        _serve_on_ray(ray_address, models, device, config, batch_size, host, port, ssl, scaling, guarded)
        return
    _serve_here(models, device, config, batch_size, host, port, ssl_keyfile, ssl_certfile, guarded)


def _require_server_packages() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as error:
        raise click.ClickException(
            f"{error.name or error} is missing; install the server extra {install_hint('server')}"
        ) from None


def _serve_here(models, device, config, batch_size, host, port, ssl_keyfile, ssl_certfile, guarded) -> None:
    """The embedded server (uvicorn) in this process, until Ctrl-C."""
    import uvicorn

    from muse_fx.server.app import create_app
    from muse_fx.server.model_pool import load_models
    from muse_fx.server.runner import uvicorn_settings

    try:
        torch_device = resolve_device(device)
        served = load_models(models, torch_device)
    except MuseFxError as error:
        raise click.ClickException(str(error)) from None
    config = replace(config, max_batch=batch_size or default_server_batch(torch_device.type))
    scheme = "https" if ssl_certfile else "http"
    click.echo(f"muse-fx: serving {', '.join(served)} on {torch_device} at {scheme}://{host}:{port}{guarded}")
    app = create_app(served, torch_device, config)
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_keyfile=ssl_keyfile,
        ssl_certfile=ssl_certfile,
        log_level="info",
        **uvicorn_settings(app),
    )


def _serve_on_ray(
    address: str,
    models: tuple[str, ...],
    device: str,
    limits,
    batch_size: int | None,
    host: str,
    port: int,
    ssl: dict | None,
    scaling: dict,
    guarded: str,
) -> None:
    """The same app on Ray Serve replicas, until Ctrl-C (docs/scale-out.md)."""
    from muse_fx.engine.registry import get_entry
    from muse_fx.scale.cluster import connected

    try:  # a misspelt name would otherwise fail in every replica, after Serve's retries
        for name in (spec for spec in models if not spec.endswith(".safetensors")):
            get_entry(name)
    except MuseFxError as error:
        raise click.ClickException(str(error)) from None
    with connected(address) as ray:
        from muse_fx.scale.serve import application, deploy, serve_until_interrupted

        if scaling["gpus"] is None:
            scaling["gpus"] = float(ray.cluster_resources().get("GPU", 0) > 0)
        app = application(models, device, limits, batch_size, **scaling)
        try:
            url = deploy(app, host, port, ssl, idle_timeout=limits.idle_timeout)
        except (RuntimeError, ray.exceptions.RayError) as error:
            cause = [line for line in str(error).splitlines() if line.strip()][-1]
            raise click.ClickException(f"the Ray Serve application did not start: {cause}") from None
        least, most = scaling["replicas"], scaling["max_replicas"]
        count = f"{least}–{most}" if most and most > least else least
        click.echo(f"muse-fx: serving {', '.join(models)} on Ray Serve ({count} replica(s)) at {url}{guarded}")
        serve_until_interrupted()
