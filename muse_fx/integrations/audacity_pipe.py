"""Talk to a running Audacity through its mod-script-pipe scripting pipes.

Audacity answers each command with its output lines, then ``BatchCommand finished: OK`` (or ``Failed!``),
then an empty line. Three things make a naive client hang or misread:

- a mistyped command or a failing menu item can open a *modal* dialog, after which Audacity reads
  nothing until someone closes it — so every reply is awaited with a timeout, by a reader thread (the
  only portable way to time out on a Windows named pipe);
- Audacity serves one client at a time and reopens its pipes between clients; a client that connects
  meanwhile (or just after Audacity starts) can have its first command lost, or see a reply meant for
  another — so each connection first sends ``Message:`` with a fresh token until that token comes back
  (not ``Echo:``, which Audacity 3.2 takes for the Echo effect);
- on POSIX the reply pipe is opened non-blocking and kept open across Audacity's reopenings, so a
  reply written after a reopening still reaches us, and our reader stops the moment we close.
"""

from __future__ import annotations

import itertools
import os
import queue
import select
import sys
import threading
import time
from pathlib import Path

from muse_fx.errors import MuseFxError

ENABLE_HINT = (
    "Start Audacity and enable its scripting module: Edit > Preferences > Modules (Audacity > Settings > "
    "Modules on macOS), set mod-script-pipe to Enabled, then restart Audacity."
)
_FINISHED = "BatchCommand finished:"
_SYNC_RETRY_S = 1.0  # resend the token after this long: the first command after a (re)connection can vanish
_LIVENESS_CHECK_S = 0.5  # while waiting for a reply, look this often whether Audacity is still there
_REOPEN_GRACE_S = 0.2  # far longer than Audacity takes to reopen its pipe for the next client
GONE_HINT = "Audacity quit or crashed and is no longer running: start it again, then run the command again."
_tokens = itertools.count()


class AudacityError(MuseFxError, RuntimeError):
    """Audacity refused a command or is not in a state muse_fx can work with."""


class AudacityCommandError(AudacityError):
    """Audacity ran a command and reported ``BatchCommand finished: Failed!``."""


class AudacityNotRunningError(AudacityError):
    """No Audacity is listening on the scripting pipes."""


class AudacityTimeoutError(AudacityError):
    """Audacity did not answer in time, most often because it is showing a dialog."""


def pipe_paths(platform: str = sys.platform, uid: int | None = None) -> tuple[str, str]:
    """(to-Audacity, from-Audacity) pipe names, built exactly as mod-script-pipe builds them."""
    if platform == "win32":
        return r"\\.\pipe\ToSrvPipe", r"\\.\pipe\FromSrvPipe"
    uid = os.getuid() if uid is None else uid
    return f"/tmp/audacity_script_pipe.to.{uid}", f"/tmp/audacity_script_pipe.from.{uid}"


def quote(value: str | Path) -> str:
    """A parameter value as Audacity's parser unescapes it: double-quoted, with backslash escapes."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


class AudacityPipe:
    """One connection to Audacity; use as a context manager so Audacity sees the client leave."""

    def __init__(self, paths: tuple[str, str] | None = None, timeout: float = 30.0, connect_timeout: float = 3.0):
        """Connect, or raise AudacityNotRunningError; ``timeout`` bounds each reply, in seconds."""
        to_path, from_path = paths or pipe_paths()
        self.timeout = timeout
        self._eol = b"\r\n\0" if sys.platform == "win32" else b"\n"
        self._lines: queue.Queue[str | OSError] = queue.Queue()
        self._closed = threading.Event()
        self._broken: AudacityError | None = None  # set once a reply is lost: later ones would be misread
        self._unsynced = False  # a wait for a reply was interrupted (Ctrl-C, SIGTERM): that reply may still come
        self._writer = _open_writer(to_path, connect_timeout)
        self._reader = threading.Thread(target=self._read_lines, args=(from_path,), daemon=True)
        self._reader.start()
        try:
            self._sync()
        except AudacityError:
            self.close()
            raise

    def __enter__(self) -> AudacityPipe:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Close our ends; Audacity then closes its own and waits for the next client."""
        self._closed.set()
        self._writer.close()
        self._reader.join(timeout=1.0)

    def command(self, text: str) -> str:
        """Send one command and return its output (without the status lines); raise if it failed."""
        if self._broken:
            raise type(self._broken)(str(self._broken))
        if self._unsynced:  # e.g. the clean-up after Ctrl-C: skip the reply the interrupted command still gets
            self._sync()
        self._send(text)
        self._unsynced = True
        status, output = self._reply(text, time.monotonic() + self.timeout)
        self._unsynced = False
        if status != "OK":
            raise AudacityCommandError(f"Audacity could not run {text!r}: {output or 'no details given'}")
        return output

    def _sync(self) -> None:
        """Send a fresh token until Audacity repeats it, dropping replies to anything sent before."""
        deadline = time.monotonic() + self.timeout
        while True:
            token = f"muse_fx-sync-{os.getpid()}-{next(_tokens)}"
            message = f"Message: Text={token}"
            self._send(message)
            attempt_end = min(deadline, time.monotonic() + _SYNC_RETRY_S)
            try:
                while self._reply(message, attempt_end)[1] != token:
                    pass
                self._unsynced = False
                return
            except AudacityTimeoutError:
                if time.monotonic() >= deadline:
                    raise
                self._broken = None

    def _send(self, text: str) -> None:
        try:
            self._writer.write(text.encode("utf-8") + self._eol)
        except OSError as exc:
            self._broken = AudacityNotRunningError(f"Lost the connection to Audacity ({exc}). {GONE_HINT}")
            raise self._broken from exc

    def _reply(self, text: str, deadline: float) -> tuple[str, str]:
        """(status, output) of the next reply; ``text`` names the command in error messages."""
        body: list[str] = []
        while not (line := self._next_line(text, deadline)).startswith(_FINISHED):
            body.append(line)
        self._next_line(text, deadline)  # the empty line that closes every reply
        return line[len(_FINISHED) :].strip(), "\n".join(body).strip()

    def _next_line(self, text: str, deadline: float) -> str:
        while True:
            try:
                item = self._lines.get(timeout=min(_LIVENESS_CHECK_S, max(0.0, deadline - time.monotonic())))
                break
            except queue.Empty:
                if self._audacity_gone():
                    self._broken = AudacityNotRunningError(f"No answer to {text!r}: {GONE_HINT}")
                    raise self._broken from None
                if time.monotonic() >= deadline:
                    self._broken = AudacityTimeoutError(
                        f"Audacity did not answer {text!r} within {self.timeout:g} s. It is probably showing a "
                        "dialog: close it in Audacity, then run the command again."
                    )
                    raise self._broken from None
        if isinstance(item, OSError):
            self._broken = AudacityNotRunningError(f"Reading Audacity's answer failed ({item}). {ENABLE_HINT}")
            raise self._broken
        return item

    def _audacity_gone(self) -> bool:
        """Whether nobody reads our commands any more: Audacity quit or crashed. Between two clients it closes
        and reopens its end for a moment, hence the second look. (POSIX only: Windows pipes cannot be asked.)"""
        if sys.platform == "win32" or not self._unread():
            return False
        time.sleep(_REOPEN_GRACE_S)
        return self._unread()

    def _unread(self) -> bool:
        poller = select.poll()
        poller.register(self._writer.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))

    def _read_lines(self, from_path: str) -> None:
        """Thread body: queue each reply line until ``close()``, or the error that stopped reading."""
        try:
            if sys.platform == "win32":
                with open(from_path, "rb") as replies:
                    for raw in replies:
                        self._lines.put(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
            else:
                self._poll_lines(from_path)
        except OSError as exc:
            self._lines.put(exc)

    def _poll_lines(self, from_path: str) -> None:
        fd = os.open(from_path, os.O_RDONLY | os.O_NONBLOCK)
        pending = b""
        try:
            while not self._closed.is_set():
                if not select.select([fd], [], [], 0.1)[0]:
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:  # no writer right now: Audacity is between clients and will reopen
                    time.sleep(0.02)
                    continue
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    self._lines.put(line.decode("utf-8", errors="replace").rstrip("\r"))
        finally:
            os.close(fd)


def _open_writer(path: str, connect_timeout: float):
    """Open the to-Audacity pipe without ever blocking, retrying while Audacity is between two clients."""
    deadline = time.monotonic() + connect_timeout
    while True:
        try:
            return _open_nonblocking(path)
        except FileNotFoundError:
            raise AudacityNotRunningError(
                f"Audacity is not running, or mod-script-pipe is off: {path} does not exist. {ENABLE_HINT}"
            ) from None
        except OSError as exc:
            # ENXIO (POSIX, no reader yet) or a busy Windows pipe: Audacity may be serving the previous
            # client still. A pipe left behind by a crashed Audacity looks the same forever.
            if time.monotonic() >= deadline:
                raise AudacityNotRunningError(
                    f"Nothing answers on {path} ({exc.strerror or exc}): Audacity is not running, is still "
                    f"starting, or crashed and left the pipe behind. {ENABLE_HINT}"
                ) from None
            time.sleep(0.05)


def _open_nonblocking(path: str):
    if sys.platform == "win32":
        return open(path, "wb", buffering=0)
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "wb", buffering=0)


__all__ = [
    "ENABLE_HINT",
    "GONE_HINT",
    "AudacityCommandError",
    "AudacityError",
    "AudacityNotRunningError",
    "AudacityPipe",
    "AudacityTimeoutError",
    "pipe_paths",
    "quote",
]
