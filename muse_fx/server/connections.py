"""Staying reachable when clients open more connections than the process has file descriptors for.

uvicorn keeps a connection that never sends a request open for good, so about a thousand idle sockets use up a
common `ulimit -n 1024`: from then on new connections, /health included, are dropped, and each failed accept is
logged. Here an idle connection (no request in progress) is closed after the idle timeout, before its first request
as after its last; at the connection limit the oldest idle connections make room for new ones, so the limit stays
below the descriptor limit; and out-of-descriptor errors are logged at most once per LOG_INTERVAL.
"""

from __future__ import annotations

import errno
import heapq
import logging
import os
import resource
import time

from uvicorn.protocols.http.h11_impl import H11Protocol

# GuardedH11Protocol reads H11Protocol's internals (cycle, connections, limit_concurrency…): the uvicorn releases it
# was checked against, as (major, minor) from … up to, not including. Behind docs/server.md's nginx the guard is not
# needed (nginx holds the silent clients); it is for a server that faces its clients itself.
UVICORN_CHECKED = ((0, 55), (0, 56))
FD_RESERVE = 64  # descriptors kept for everything but connections: stdio, the event loop, upload and answer spools
LOG_INTERVAL = 10.0  # seconds between two reports of running out of descriptors
OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE)
THROTTLED_LOGGERS = ("asyncio", "uvicorn.error")  # failed accepts, and requests that failed for want of a descriptor


def connection_limit(requested: int) -> int:
    """`requested`, or fewer where the process may not open that many descriptors besides FD_RESERVE."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return requested
    return max(1, min(requested, soft - FD_RESERVE))


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus the idle timeout from the first byte on, and room made at the connection limit.

    The limit is uvicorn's `limit_concurrency`, the timeout its `timeout_keep_alive`.
    """

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.opened = time.monotonic()
        self._no_request_timer = self.loop.call_later(self.timeout_keep_alive, self._close_if_no_request)
        self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._no_request_timer.cancel()
        super().connection_lost(exc)

    @property
    def idle(self) -> bool:
        """Open, with no request in progress: a slow or silent client, or a kept-alive one between requests."""
        return (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing()

    def drop(self) -> None:
        """Close, and stop counting against the limit now: uvicorn forgets a connection only once it is lost,
        which may be after the next request has been checked against the limit."""
        self.connections.discard(self)
        self.transport.close()

    def _close_if_no_request(self) -> None:
        if self.cycle is None and not self.transport.is_closing():
            self.drop()

    def _make_room(self) -> None:
        """Close the oldest idle connections beyond the limit, so that this one is served rather than told 503."""
        if self.limit_concurrency is None or len(self.connections) < self.limit_concurrency:
            return
        idle = [c for c in self.connections if isinstance(c, GuardedH11Protocol) and c is not self and c.idle]
        excess = len(self.connections) - (self.limit_concurrency - 1)
        for connection in heapq.nsmallest(max(0, excess), idle, key=lambda c: c.opened):
            connection.drop()


class DescriptorErrorThrottle(logging.Filter):
    """Passes one out-of-descriptors record per `interval` seconds, as one line that counts those held back."""

    def __init__(self, interval: float = LOG_INTERVAL):
        super().__init__()
        self.interval = interval
        self._next = 0.0
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not (isinstance(error, OSError) and error.errno in OUT_OF_DESCRIPTORS):
            return True
        now = time.monotonic()
        if now < self._next:
            self._held += 1
            return False
        held = f"; {self._held} more like it in the last {self.interval:g} s" if self._held else ""
        record.msg = (
            f"{record.getMessage().splitlines()[0]}: {os.strerror(error.errno)}{held}. "
            "Raise `ulimit -n` or lower --max-connections; put a reverse proxy in front (docs/server.md)"
        )
        record.args, record.exc_info, record.exc_text = (), None, None
        self._next, self._held = now + self.interval, 0
        return True


THROTTLE = DescriptorErrorThrottle()


def throttle_descriptor_errors() -> None:
    """Install the throttle on the loggers that report failed accepts and failed requests (once per process)."""
    for name in THROTTLED_LOGGERS:
        logger = logging.getLogger(name)
        if THROTTLE not in logger.filters:
            logger.addFilter(THROTTLE)
