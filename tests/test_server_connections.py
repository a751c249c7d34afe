"""A flood of idle connections: the limits reach uvicorn, silent clients are closed, /health still answers."""

import errno
import logging
import re
import resource
import socket
import subprocess
import sys
import threading
from contextlib import ExitStack
from urllib.parse import urlsplit

import httpx
from test_server_support import make_app

from muse_fx.server.connections import FD_RESERVE, DescriptorErrorThrottle, GuardedH11Protocol, connection_limit
from muse_fx.server.runner import run_in_background, uvicorn_settings

SERVER_NOFILE = 128  # the server's `ulimit -n` in the flood test: room for 64 connections besides FD_RESERVE


def idle_connections(url: str, count: int, stack: ExitStack) -> list[socket.socket]:
    """`count` connections to `url` that never send a byte."""
    parts = urlsplit(url)
    sockets = []
    for _ in range(count):
        sock = stack.enter_context(socket.create_connection((parts.hostname, parts.port), timeout=10))
        sockets.append(sock)
    return sockets


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closed `sock` (waits up to the socket's timeout)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_uvicorn_is_a_release_the_guard_was_checked_against():
    from importlib.metadata import version

    from muse_fx.server.connections import UVICORN_CHECKED

    installed = version("uvicorn")
    (low, high) = UVICORN_CHECKED
    assert low <= tuple(int(part) for part in installed.split(".")[:2]) < high, (
        f"uvicorn {installed} is outside {low} ≤ version < {high}, the releases muse_fx/server/connections.py "
        "(a subclass of uvicorn's internal H11Protocol) was checked against: run tests/test_server_connections.py "
        "with it, then widen UVICORN_CHECKED and the pins in pyproject.toml and constraints.txt"
    )


def test_the_limits_reach_uvicorn(tiny_model_path, monkeypatch):
    settings = uvicorn_settings(make_app(tiny_model_path, max_connections=7, idle_timeout=2.5))
    assert settings["http"] is GuardedH11Protocol
    assert (settings["limit_concurrency"], settings["timeout_keep_alive"]) == (7, 2.5)
    monkeypatch.setattr(resource, "getrlimit", lambda kind: (1024, 4096))
    assert connection_limit(5000) == 1024 - FD_RESERVE and connection_limit(100) == 100


def test_a_connection_that_sends_nothing_is_closed_after_the_idle_timeout(tiny_model_path):
    with run_in_background(make_app(tiny_model_path, idle_timeout=0.3)) as url, ExitStack() as stack:
        (silent,) = idle_connections(url, 1, stack)
        assert closed_by_server(silent)
        assert httpx.get(f"{url}/health").json()["ready"]


def test_at_the_limit_the_oldest_idle_connections_make_room(tiny_model_path):
    with run_in_background(make_app(tiny_model_path, max_connections=5, idle_timeout=60)) as url, ExitStack() as stack:
        sockets = idle_connections(url, 10, stack)
        assert httpx.get(f"{url}/health", timeout=10).json()["ready"]  # served, not told 503
        assert all(closed_by_server(sock) for sock in sockets[:6])  # 10 idle + /health, at most 4 others kept


def out_of_descriptors_record() -> logging.LogRecord:
    error = OSError(errno.EMFILE, "Too many open files")
    return logging.LogRecord(
        "asyncio",
        logging.ERROR,
        __file__,
        1,
        "socket.accept() out of system resource\nsocket: …",
        None,
        (OSError, error, None),
    )


def test_out_of_descriptor_errors_are_logged_once_per_interval():
    throttle = DescriptorErrorThrottle(interval=60)
    passed = [record for record in (out_of_descriptors_record() for _ in range(1000)) if throttle.filter(record)]
    assert len(passed) == 1 and passed[0].exc_info is None
    assert passed[0].getMessage().startswith("socket.accept() out of system resource: Too many open files. Raise")
    throttle._next = 0  # the interval has passed
    later = out_of_descriptors_record()
    assert throttle.filter(later) and "999 more like it in the last 60 s" in later.getMessage()
    other = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "something else", None, None)
    assert all(throttle.filter(other) for _ in range(3))


def serve_with_few_descriptors(model_path) -> subprocess.Popen:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (SERVER_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    command = [
        sys.executable,
        "-c",
        "from muse_fx.cli import main; main()",
        "serve",
        "--model",
        str(model_path),
        "--port",
        "0",
    ]
    return subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, preexec_fn=limit)


def test_a_flood_beyond_ulimit_leaves_health_answering(tiny_model_path):
    """The issue's probe, scaled down: 1,100 half-open connections against `ulimit -n 1024`."""
    server = serve_with_few_descriptors(tiny_model_path)
    log: list[str] = []
    started = threading.Event()

    def read_log() -> None:
        for line in server.stderr:
            log.append(line)
            started.set() if "running on" in line else None

    threading.Thread(target=read_log, daemon=True).start()
    try:
        assert started.wait(120), "".join(log)
        url = re.search(r"running on (http://\S+)", "".join(log)).group(1)
        with ExitStack() as stack:
            idle_connections(url, SERVER_NOFILE + 50, stack)
            assert httpx.get(f"{url}/health", timeout=10).json()["ready"]
    finally:
        server.terminate()
        server.wait(30)
    assert sum("Too many open files" in line for line in log) <= 1, "".join(log)
