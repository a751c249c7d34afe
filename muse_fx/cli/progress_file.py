"""A one-line status file for callers that cannot read our terminal (the Reaper action polls it).

Format: `<state>\t<fraction 0..1>\t<message>` with state `running`, `done` or `error`; rewritten atomically.
"""

from __future__ import annotations

import os
from pathlib import Path


class ProgressFile:
    def __init__(self, path: Path | None):
        self.path = path

    def write(self, state: str, fraction: float, message: str = "") -> None:
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(f"{state}\t{fraction:.3f}\t{' '.join(message.split())}\n")
        os.replace(tmp, self.path)
