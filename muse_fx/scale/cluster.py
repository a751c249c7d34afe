"""Which Ray cluster a command runs on: a private one on this machine, or one that already runs.

`local` starts a private single-node cluster that only listens on loopback; `auto` joins the cluster in
$RAY_ADDRESS or the one `ray start` runs on this machine; `ray://HOST:10001` joins through the Ray Client and
`HOST:PORT` as a driver on a node of that cluster. Without a value, Ray's own rule applies: $RAY_ADDRESS or a
cluster running here, else a private one.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from muse_fx.errors import MuseFxError, install_hint
from muse_fx.interrupts import signal_handlers_kept, stop_signals_interrupt

LOCAL, AUTO = "local", "auto"
DEFAULT = ""  # `--ray` given without a value
ADDRESS = re.compile(r"^(ray://)?[\w.\-\[\]:]+:\d+$")
# Ray keeps a single-node cluster on loopback where it treats clusters as unsupported (macOS, Windows);
# its switch for that is this variable, read when Ray is imported.
LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


class RayMissingError(MuseFxError, ImportError):
    """The ray extra is not installed."""


class ClusterError(MuseFxError, ConnectionError):
    """The cluster asked for cannot be joined or started."""


def check_address(address: str) -> str:
    """`address` if it is a value `--ray` understands, else a message saying what it takes."""
    if address in (DEFAULT, LOCAL, AUTO) or ADDRESS.match(address):
        return address
    raise ValueError(
        f"--ray takes local, auto, ray://HOST:10001 or HOST:PORT, got {address!r}; "
        "if that was an input file, put --ray after the inputs or give it a value (--ray local)"
    )


def import_ray(loopback: bool = False) -> ModuleType:
    """The ray module, or a RayMissingError saying how to install it."""
    if loopback:
        os.environ.update(LOOPBACK_ONLY)
    try:
        import ray
    except ImportError:
        raise RayMissingError(
            f"this needs Ray, which is not installed; install the ray extra {install_hint('ray')}"
        ) from None
    return ray


@contextmanager
def connected(address: str, num_cpus: int | None = None) -> Iterator[ModuleType]:
    """Ray, connected for the block, where SIGTERM and SIGHUP stop the command as Ctrl-C does
    (muse_fx.interrupts). A process already connected keeps its connection (and `address` is not used);
    otherwise the connection made here is closed afterwards, and a private cluster stopped."""
    ray = import_ray(loopback=address == LOCAL)
    if ray.is_initialized():
        with stop_signals_interrupt():
            yield ray
        return
    with signal_handlers_kept():  # ray.init installs its own, which abort with a stack dump, and leaves them
        _join(ray, address, num_cpus)
        with stop_signals_interrupt():
            try:
                yield ray
            finally:
                ray.shutdown()


def _join(ray: ModuleType, address: str, num_cpus: int | None) -> None:
    private = address == LOCAL
    try:
        ray.init(
            address=address or None,
            num_cpus=num_cpus if private else None,
            include_dashboard=False if private else None,
            logging_level=logging.WARNING,
        )
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = address if address not in (AUTO, DEFAULT) else "$RAY_ADDRESS or on this machine"
        raise ClusterError(
            f"cannot join the Ray cluster at {where} ({error}); start one with `ray start --head`, check the "
            "address, or use --ray local for a private cluster on this machine"
        ) from None
