"""A one-line status file for callers that cannot read our terminal (the Reaper action polls it).

Format: `<state>\t<fraction 0..1>\t<message>` with state `running`, `done` or `error`; rewritten atomically
through a temp file with an unpredictable name.

The status file only mirrors the run, so failing to write it (a full disk, a folder gone) warns once and lets
the enhancement go on: its result is what the user asked for. Later writes keep trying, so a final `done`
still lands once space is back.
"""

from __future__ import annotations

from pathlib import Path

import click

from muse_fx.errors import printable
from muse_fx.io.atomic import atomic_path


class ProgressFile:
    def __init__(self, path: Path | None):
        self.path = path
        self.warned = False

    def write(self, state: str, fraction: float, message: str = "") -> None:
        if self.path is None:
            return
        try:
            with atomic_path(self.path) as tmp:
                tmp.write_text(f"{state}\t{fraction:.3f}\t{printable(' '.join(message.split()))}\n", encoding="utf-8")
        except OSError as error:
            if not self.warned:
                reason = error.strerror or error
                click.secho(
                    f"! {printable(str(self.path))}: progress file could not be written ({reason}); "
                    "carrying on without it",
                    err=True,
                    fg="yellow",
                )
            self.warned = True
