"""`muse-fx serve --ray`: the server's own FastAPI app on Ray Serve replicas, each loading the models once.

Routes, bearer token, limits and error codes are those of `muse_fx.server.app.create_app`, unchanged; only
the batcher differs: `@serve.batch` gathers concurrent requests' chunks into one forward pass, where the
embedded server uses its own thread. Autoscaling, placement and the HTTP proxy are Ray Serve's
(docs/scale-out.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

import ray
import torch
from ray import serve
from ray.serve.config import HTTPOptions

from muse_fx.backends.bearer_token import resolve_token
from muse_fx.engine.devices import resolve_device
from muse_fx.server.app import create_app
from muse_fx.server.batcher import Batcher, BatchKey, Job
from muse_fx.server.limits import ServerConfig
from muse_fx.server.model_pool import ServedModel, load_models
from muse_fx.settings import default_server_batch

APP = "muse-fx"
LOOPBACK = "127.0.0.1"  # the node address of a private cluster (muse_fx.scale.cluster)


class ServeBatcher(Batcher):
    """The Batcher's forward passes, fed by `@serve.batch` instead of a thread of its own.

    One per replica: Serve keeps one batch queue per decorated method and process.
    """

    def __init__(self, models: dict[str, ServedModel], config: ServerConfig):
        super().__init__(models, config.max_batch)
        self._event_loop: asyncio.AbstractEventLoop | None = None
        # A request offers `request_batch` chunks at a time, so this many requests fill a pass.
        self._gather.set_max_batch_size(  # type: ignore[attr-defined]  # added by @serve.batch
            max(1, config.max_batch // config.request_batch)
        )

    @property
    def running(self) -> bool:
        return self._event_loop is not None

    def start(self) -> None:
        """Called by the app's lifespan, on the replica's event loop."""
        self._event_loop = asyncio.get_running_loop()

    def stop(self) -> None:
        self._event_loop = None

    def submit(self, key: BatchKey, chunks: torch.Tensor, indices: list[int]) -> Future:
        """From a request's worker thread: queue the chunks for `@serve.batch`; the future gives the output."""
        job = Job(key, chunks, list(indices))
        self._pending.append(job)
        if self._event_loop is None:
            raise RuntimeError("the replica's batcher is not running")
        asyncio.run_coroutine_threadsafe(self._gather(job), self._event_loop)
        return job.future

    @serve.batch
    async def _gather(self, jobs: list[Job]) -> list[None]:
        for job in jobs:
            self._pending.remove(job)
        await asyncio.to_thread(self._passes, jobs)
        return [None] * len(jobs)

    def _passes(self, jobs: list[Job]) -> None:
        """One pass per group of jobs that may share one (same model, rate, chunk shape and settings)."""
        with torch.inference_mode():
            for key in dict.fromkeys(job.key for job in jobs):
                self._run([job for job in jobs if job.key == key])


@serve.deployment(name=APP)
@serve.ingress()
class Replica:
    """Loads the models on this replica's device and serves them with the embedded server's app."""

    def __init__(self, models: Sequence[str], device: str, config: ServerConfig, batch_size: int | None):
        if ray.util.get_node_ip_address() == LOOPBACK:
            _bind_replica_grpc_to(LOOPBACK)
        torch_device = resolve_device(device)  # "auto": the GPU Ray gave this replica, if any
        served = load_models(models, torch_device)
        config = replace(config, max_batch=batch_size or default_server_batch(torch_device.type))
        self._app = create_app(served, torch_device, config, batcher=ServeBatcher(served, config))

    def __serve_build_asgi_app__(self):
        return self._app


def _bind_replica_grpc_to(host: str) -> None:
    """Serve opens a gRPC server for calls between deployments on every replica, at [::] (every interface), and
    unpickles what it receives; a private cluster (`--ray local`) keeps all its other ports on loopback, so this
    one goes there too. Called before Serve starts that server (after the replica's constructor)."""
    from ray.serve._private import replica

    add_port = replica.add_port_to_grpc_server
    replica.add_port_to_grpc_server = lambda server, address: add_port(server, address.replace("[::]", host))


def application(
    models: Sequence[str],
    device: str,
    config: ServerConfig,
    batch_size: int | None = None,
    *,
    replicas: int = 1,
    max_replicas: int | None = None,
    cpus: float = 1.0,
    gpus: float = 0.0,
):
    """The Serve application: `replicas` of them, or between `replicas` and `max_replicas` with autoscaling.

    Serve routes a request only to a replica with a free slot (`max_requests`); beyond that it queues as many
    again, then answers 503 like a full embedded server.
    """
    scaling = (
        {"num_replicas": replicas}
        if not max_replicas or max_replicas <= replicas
        else {
            "autoscaling_config": {
                "min_replicas": replicas,
                "max_replicas": max_replicas,
                "target_ongoing_requests": max(1, config.max_requests // 2),
            }
        }
    )
    return Replica.options(  # type: ignore[attr-defined]  # added by @serve.deployment
        ray_actor_options={"num_cpus": cpus, "num_gpus": gpus},
        max_ongoing_requests=config.max_requests,
        max_queued_requests=config.max_requests,
        **scaling,
    ).bind(tuple(models), device, config, batch_size)


def build(args: dict):
    """For Serve config files (`import_path: muse_fx.scale.serve:build`); `args` holds `models` (list),
    `device`, `token_file` (else $MUSE_FX_TOKEN), `batch_size` and any ServerConfig limit."""
    args = dict(args)
    models, device = args.pop("models", ["default"]), args.pop("device", "auto")
    batch_size = args.pop("batch_size", None)
    config = ServerConfig(token=resolve_token(args.pop("token_file", None)), **args)
    return application(models, device, config, batch_size)


def deploy(app, host: str, port: int, ssl: dict | None = None, idle_timeout: float | None = None) -> str:
    """Start Serve's HTTP proxies on host:port and run `app` there; returns its URL once every replica is up.

    `idle_timeout` is how long an idle keep-alive connection stays open (the embedded server's --idle-timeout).
    """
    options: dict[str, Any] = {"host": host, "port": port, **(ssl or {})}
    if idle_timeout:
        options["keep_alive_timeout_s"] = idle_timeout
    serve.start(http_options=HTTPOptions(**options))
    serve.run(app, name=APP, route_prefix="/")
    return f"{'https' if ssl else 'http'}://{host}:{port}"


def serve_until_interrupted() -> None:
    """Keep the deployed application serving until Ctrl-C, then take it down."""
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        serve.delete(APP)
