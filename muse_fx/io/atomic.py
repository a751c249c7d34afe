"""Writing files so that a crash, an error, Ctrl-C or a kill never leaves a half-written one behind.

Temp files and scratch folders sit hidden beside their target, and their names carry the pid and start time
of the process that made them: a later run can then tell debris of a killed run (SIGKILL, power cut) from the
work of a run still going, and sweep only the former.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

from muse_fx.errors import MuseFxError

# `.<target name>.muse-fx-<pid>-<start time>-<random>` (a scratch folder), `… .part` (a temp file).
DEBRIS = re.compile(r"^\..+\.muse-fx-(?P<pid>\d+)-(?P<started>\d+)-[a-z0-9_]+(\.part)?$")


class DestinationAppearedError(MuseFxError):
    """Another program created the output while we worked; it was left alone and our result kept beside it."""

    def __init__(self, path: Path, kept: Path):
        super().__init__(
            f"{path}: appeared while muse-fx was working and was left untouched; the result was saved as {kept} instead"
        )
        self.path, self.kept = path, kept


def _process_started(pid: int) -> int:
    return int(psutil.Process(pid).create_time())


def _owner() -> str:
    return f"muse-fx-{os.getpid()}-{_process_started(os.getpid())}-"


def _create_hidden(path: Path) -> Path:
    """An empty hidden file beside `path`, created with mode 0666 so the umask applies (mkstemp's 0600 would not)."""
    while True:
        candidate = path.with_name(f".{path.name}.{_owner()}{secrets.token_hex(4)}.part")
        with contextlib.suppress(FileExistsError):
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return candidate


@contextlib.contextmanager
def atomic_path(path: Path, replace: bool = True) -> Iterator[Path]:
    """A hidden temp path beside `path` that becomes `path` on success and vanishes on any error or interrupt.

    A replaced file keeps its permissions. With `replace=False` an existing `path` is never replaced, even
    one that appeared while the caller was writing: DestinationAppearedError then says where the result went.
    """
    path = Path(path)
    tmp = _create_hidden(path)
    try:
        yield tmp
        if replace:
            with contextlib.suppress(FileNotFoundError):
                shutil.copymode(path, tmp)
            os.replace(tmp, path)
        else:
            _place_new(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.remove(tmp)


def _place_new(tmp: Path, path: Path) -> None:
    try:
        _link_or_claim(tmp, path)
    except FileExistsError:
        raise DestinationAppearedError(path, _place_aside(tmp, path)) from None


def _place_aside(tmp: Path, path: Path) -> Path:
    """`tmp` → the first free `<stem> (n)<suffix>` beside `path`, as a browser names a second download."""
    number = 2
    while True:
        kept = path.with_name(f"{path.stem} ({number}){path.suffix}")
        try:
            _link_or_claim(tmp, kept)
            return kept
        except FileExistsError:
            number += 1


def _link_or_claim(tmp: Path, path: Path) -> None:
    """Move `tmp` to `path` unless something is there (FileExistsError): no window in which one is replaced."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system (FAT, some shares): claim the name, then fill it
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        os.replace(tmp, path)
    else:
        os.remove(tmp)


@contextlib.contextmanager
def scratch_folder(beside: Path) -> Iterator[Path]:
    """A hidden folder for intermediate files next to `beside` (same disk), removed on exit, error or interrupt."""
    with tempfile.TemporaryDirectory(dir=beside.parent, prefix=f".{beside.name}.{_owner()}") as folder:
        yield Path(folder)


def sweep_debris(folder: Path, older_than: float) -> list[Path]:
    """Remove temp files and scratch folders a killed run of ours left in `folder`; returns what went.

    Only names this module makes are touched, only where the process that made them is gone, and only
    where nothing changed them since `older_than` (the time this run began).
    """
    removed = []
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            match = DEBRIS.match(entry.name)
            if match and not _alive(int(match["pid"]), int(match["started"])) and _last_change(entry) < older_than:
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
                removed.append(entry)
    return removed


def _alive(pid: int, started: int) -> bool:
    try:
        return _process_started(pid) == started
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # not ours to inspect: assume it is still working
        return True


def _last_change(entry: Path) -> float:
    try:
        inner = list(entry.iterdir()) if entry.is_dir() else []
        return max(p.stat().st_mtime for p in [entry, *inner])
    except OSError:
        return time.time()  # vanished or unreadable meanwhile: leave it
