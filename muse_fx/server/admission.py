"""The bounded queue: a fixed number of requests in flight; the next is told to come back later (503)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Busy(Exception):
    """Every slot is taken."""


class Admission:
    """Counts requests from admission until their audio is enhanced; never blocks, so a full server answers at once."""

    def __init__(self, limit: int):
        self.limit = limit
        self.active = 0
        self._lock = threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._lock:
            if self.active >= self.limit:
                raise Busy()
            self.active += 1
        try:
            yield
        finally:
            with self._lock:
                self.active -= 1
