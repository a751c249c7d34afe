"""SIGTERM and SIGHUP stop a run the way Ctrl-C does, so the same clean-up runs and no debris is left.

A closed terminal sends SIGHUP; `kill`, systemd, a DAW or a CI runner send SIGTERM. Left to Python's default
they end the process at once, skipping every `finally`: the scratch folder and the half-written `.part` stay.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """A stop signal arrived; every `except KeyboardInterrupt` and `finally` treats it as Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_status(interrupt: KeyboardInterrupt) -> int:
    """The shell's convention: 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM)."""
    return 128 + getattr(interrupt, "signum", signal.SIGINT)


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """Inside this block SIGTERM/SIGHUP raise Stopped; repeats are ignored so the clean-up can finish.

    A library that catches the Stopped and raises a bare KeyboardInterrupt instead (Ray's waits do) still ends
    the block with the Stopped, so the exit status names the signal."""
    received: list[int] = []

    def stop(signum, frame):
        for number in STOP_SIGNALS:
            signal.signal(number, signal.SIG_IGN)
        received.append(signum)
        raise Stopped(signum)

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        yield
    except KeyboardInterrupt as interrupt:
        if received and not isinstance(interrupt, Stopped):
            raise Stopped(received[0]) from None
        raise
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def signal_handlers_kept() -> Iterator[None]:
    """The stop signals' handlers of the block's start, put back at its end: for a library that replaces them
    with its own and leaves those behind."""
    kept = {number: handler for number in STOP_SIGNALS if (handler := signal.getsignal(number)) is not None}
    try:
        yield
    finally:
        for number, handler in kept.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Ctrl-C and stop signals that arrive inside this block take effect as it ends: for a step that must not be
    cut in half, such as adding a track to Audacity and saying so. Signals reach only the main thread; in any
    other this changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    previous = {
        number: signal.signal(number, lambda signum, frame: arrived.append(signum))
        for number in (signal.SIGINT, *STOP_SIGNALS)
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        if arrived:
            signal.raise_signal(arrived[0])  # to whatever handles it outside
