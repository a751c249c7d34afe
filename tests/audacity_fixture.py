"""Audacity for the adapter tests: a real one under Xvfb, and a fake that plays its side of the pipes.

The real one runs Debian's Audacity 3.2 in a throw-away HOME whose config enables mod-script-pipe. Its
first start in a fresh HOME scans plugins and never answers a command sent meanwhile, so it is started,
stopped once its project window is up, and started again (about 5 s in all).
"""

from __future__ import annotations

import contextlib
import glob
import os
import select
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from muse_fx.integrations.audacity_pipe import (
    AudacityError,
    AudacityNotRunningError,
    AudacityPipe,
    AudacityTimeoutError,
    pipe_paths,
)

MODULE_PATTERNS = (
    "/usr/lib/audacity/modules/mod-script-pipe.so",
    "/usr/lib/*/audacity/modules/mod-script-pipe.so",
    "/usr/lib64/audacity/modules/mod-script-pipe.so",
    "/usr/local/lib/audacity/modules/mod-script-pipe.so",
)
INSTALL_HINT = "apt-get install audacity xvfb"


def find_script_module() -> Path | None:
    """The mod-script-pipe module of the installed Audacity, if any."""
    found = [path for pattern in MODULE_PATTERNS for path in glob.glob(pattern)]
    return Path(found[0]) if found else None


def missing_requirement() -> str | None:
    """Why the real-Audacity tests cannot run here, or None when they can."""
    if not sys.platform.startswith("linux"):
        return "the real-Audacity tests drive Audacity under Xvfb, which needs Linux"
    for binary in ("audacity", "Xvfb"):
        if shutil.which(binary) is None:
            return f"{binary} is not installed ({INSTALL_HINT})"
    if find_script_module() is None:
        return f"Audacity's mod-script-pipe module was not found in {', '.join(MODULE_PATTERNS)}"
    try:
        AudacityPipe(timeout=1, connect_timeout=0).close()
    except AudacityNotRunningError:
        return None
    except AudacityError:
        pass  # it is there, but busy
    return f"another Audacity is already listening on {pipe_paths()[0]}; close it to run these tests"


def audacity_config(module: Path, temp_dir: Path) -> str:
    """audacity.cfg that loads mod-script-pipe without asking and shows no start-up dialogs."""
    # Audacity reloads a module only if this stamp equals the file's mtime, written in local time.
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(module.stat().st_mtime))
    return (
        "PrefsVersion=1.1.1r1\n"
        f"[Module]\nmod-script-pipe=1\n[ModulePath]\nmod-script-pipe={module}\n"
        f"[ModuleDateTime]\nmod-script-pipe={stamp}\n"
        "[GUI]\nShowSplashScreen=0\n[Update]\nDefaultUpdatesChecking=0\n"
        f"[Directories]\nTempDir={temp_dir}\n"
    )


class RunningAudacity:
    """Xvfb plus Audacity in a private HOME under ``root``; ``stop()`` always leaves nothing running."""

    def __init__(self, root: Path):
        self.root = root
        self.home = root / "home"
        self.log = root / "audacity.log"
        self._xvfb: subprocess.Popen | None = None
        self._audacity: subprocess.Popen | None = None

    def start(self, deadline_s: float = 60.0) -> None:
        deadline = time.monotonic() + deadline_s
        display = self._start_xvfb(deadline)
        self._env = {
            **os.environ,
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "DISPLAY": display,
            "GDK_BACKEND": "x11",
            "NO_AT_BRIDGE": "1",
        }
        config = self._write_config(self.root / "temp-first-start")
        self._start_audacity()
        # The first start ends by opening a project window, which it records for crash recovery.
        self._wait(lambda: "[ActiveProjects]" in _read(config), deadline, "a project window")
        time.sleep(1.0)
        self._stop_audacity()
        # Keep the version the first start recorded, or Audacity "upgrades" the settings again and shows its
        # welcome dialog.
        self._version = _section(_read(config), "Version")
        self._starts = 0
        self._start_again(deadline)

    def kill(self) -> None:
        """SIGKILL Audacity, as a crash would; ``restart()`` brings it back."""
        self._audacity.kill()
        self._audacity.wait(timeout=5)

    def restart(self, deadline_s: float = 60.0) -> None:
        self._stop_audacity()
        _remove_stale_pipes()
        self._start_again(time.monotonic() + deadline_s)

    def _start_again(self, deadline: float) -> None:
        """A start in a fresh TempDir: it holds no unsaved project, so there is no crash-recovery dialog."""
        self._starts += 1
        self._write_config(self.root / f"temp-{self._starts}", extra=self._version)
        self._start_audacity()
        self._wait(self._answers, deadline, "an answer on the scripting pipe")

    @property
    def display(self) -> str:
        """The X display Audacity runs on, for other windows under test."""
        return self._env["DISPLAY"]

    def connect(self, timeout: float = 10.0) -> AudacityPipe:
        """A new connection; close it before anything else (the CLI under test) connects."""
        return AudacityPipe(timeout=timeout, connect_timeout=5.0)

    def stop(self) -> None:
        self._stop_audacity()
        _remove_stale_pipes()
        if self._xvfb is not None:
            _end(self._xvfb)
            os.close(self._display_fd)
            self._xvfb = None

    def _start_xvfb(self, deadline: float) -> str:
        """Start Xvfb on a free display; it writes the number it chose to ``-displayfd``."""
        # The read end stays open while Xvfb runs: Xvfb exits once it finds it closed.
        self._display_fd, write_end = os.pipe()
        self._xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
            pass_fds=(write_end,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_end)
        ready, _, _ = select.select([self._display_fd], [], [], max(0.0, deadline - time.monotonic()))
        number = os.read(self._display_fd, 64).decode().strip() if ready else ""
        if not number:
            raise RuntimeError("Xvfb did not report a display number")
        return f":{number}"

    def _write_config(self, temp_dir: Path, extra: str = "") -> Path:
        temp_dir.mkdir(parents=True)
        config = self.home / ".config" / "audacity" / "audacity.cfg"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(audacity_config(find_script_module(), temp_dir) + extra)
        return config

    def _start_audacity(self) -> None:
        with open(self.log, "ab") as log:
            self._audacity = subprocess.Popen(
                ["audacity"], env=self._env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    def _stop_audacity(self) -> None:
        if self._audacity is not None:
            _end(self._audacity)
            self._audacity = None

    def _answers(self) -> bool:
        try:
            AudacityPipe(timeout=2.0, connect_timeout=0.2).close()  # connecting includes a round trip
            return True
        except (AudacityNotRunningError, AudacityTimeoutError):
            return False

    def _wait(self, ready: Callable[[], bool], deadline: float, what: str) -> None:
        while not ready():
            if self._audacity.poll() is not None:
                raise RuntimeError(f"Audacity exited while waiting for {what}; log:\n{self._log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Timed out waiting for {what}; Audacity's log:\n{self._log_tail()}")
            time.sleep(0.2)

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else "(no log)"


@contextlib.contextmanager
def audacity_for_tests(root: Path) -> Iterator[RunningAudacity]:
    """A started Audacity under ``root``; skips where one cannot run, fails then with MUSE_FX_REQUIRE_AUDACITY=1."""
    import pytest

    reason = missing_requirement()
    if reason and os.environ.get("MUSE_FX_REQUIRE_AUDACITY") == "1":
        pytest.fail(f"MUSE_FX_REQUIRE_AUDACITY=1 but {reason}")
    if reason:
        pytest.skip(reason)
    app = RunningAudacity(root)
    try:
        app.start()
        yield app
    finally:
        app.stop()


def _remove_stale_pipes() -> None:
    """Audacity leaves its pipes behind when it is terminated; remove them unless someone listens."""
    for path in pipe_paths():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # succeeds only with a reader
        except FileNotFoundError:
            pass
        except OSError:
            os.unlink(path)


def _end(process: subprocess.Popen) -> None:
    """Terminate one process we started, killing it if it ignores SIGTERM for 5 s."""
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _read(path: Path) -> str:
    """The file's text, or "" while Audacity is replacing it."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def _section(config: str, name: str) -> str:
    """The section ``[name]`` of an INI text, header included."""
    kept, inside = [], False
    for line in config.splitlines(keepends=True):
        if line.startswith("["):
            inside = line.strip() == f"[{name}]"
        if inside:
            kept.append(line)
    return "".join(kept)


def reply(body: str = "", status: str = "OK") -> str:
    """A reply as mod-script-pipe writes it: output lines, the status line, an empty line."""
    return (body + "\n" if body else "") + f"BatchCommand finished: {status}\n\n"


QUIT = "quit"
"""What ``FakeAudacity``'s ``answer`` returns to quit at once, closing its pipes unanswered, as a crash would."""


class FakeAudacity:
    """Audacity's side of a pipe pair in ``directory``: ``answer(command)`` gives the reply, None for none.

    It answers the ``Message:`` every connection starts with by itself, after dropping the first
    ``drop_tokens`` of them and sending ``stale`` (a reply nobody asked for) first, as a real
    Audacity can right after it starts or between two clients.
    """

    def __init__(self, directory: Path, answer: Callable[[str], str | None], drop_tokens: int = 0, stale: str = ""):
        self.paths = (str(directory / "to"), str(directory / "from"))
        for path in self.paths:
            os.mkfifo(path)
        self.received: list[str] = []
        self.tokens = 0
        self._answer = answer
        self._drop_tokens = drop_tokens
        self._stale = stale
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        # Same order as Audacity: the command pipe first, then the reply pipe.
        with open(self.paths[0], "rb") as commands, open(self.paths[1], "wb", buffering=0) as replies:
            for raw in commands:
                answer = self._respond(raw.decode().rstrip("\n"))
                if answer is QUIT:
                    return
                if answer is not None:
                    replies.write(answer.encode())

    def _respond(self, command: str) -> str | None:
        if not command.startswith("Message: Text="):
            self.received.append(command)
            return self._answer(command)
        self.tokens += 1
        if self.tokens <= self._drop_tokens:
            return None
        stale, self._stale = self._stale, ""
        return stale + reply(command.removeprefix("Message: Text="))
