"""Running the app: uvicorn's settings for it, and a background thread on an ephemeral loopback port for tests,
benchmarks and notebooks."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from muse_fx.server.connections import GuardedH11Protocol, connection_limit, throttle_descriptor_errors
from muse_fx.server.limits import ServerConfig


def uvicorn_settings(app: FastAPI) -> dict:
    """uvicorn.Config arguments that keep the app reachable under a flood of connections (see connections.py)."""
    config: ServerConfig = app.state.server_config
    throttle_descriptor_errors()
    return dict(
        http=GuardedH11Protocol,
        ws="none",  # no websocket routes; an upgrade would bypass the connection guard
        limit_concurrency=connection_limit(config.max_connections),
        timeout_keep_alive=config.idle_timeout,
    )


@contextmanager
def run_in_background(app: FastAPI, host: str = "127.0.0.1", start_timeout: float = 30.0) -> Iterator[str]:
    """Serve `app` until the block ends; yields its URL. The port is picked by the OS, so runs never collide."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.bind((host, 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **uvicorn_settings(app)))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="muse-fx-server", daemon=True)
    thread.start()
    started = time.monotonic()
    while not server.started:
        if not thread.is_alive() or time.monotonic() - started > start_timeout:
            raise RuntimeError("the muse-fx server did not start; see the log above")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
