"""The terminal progress bar for one file: seconds of audio done, cleared before the file's ✓/✗ line."""

from __future__ import annotations

from collections.abc import Callable

from tqdm import tqdm

FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s audio [{elapsed}<{remaining}]"


class AudioBar:
    """`progress(done, total)` in seconds of input audio; `report(fraction)` hears every update too.

    The bar appears at the first report (only then is the length known) and is cleared when the `with` block
    ends, so the line printed next stands on its own line.
    """

    def __init__(self, name: str, report: Callable[[float], None]):
        self.name, self.report = name, report
        self.bar: tqdm | None = None

    def __enter__(self) -> AudioBar:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.close()

    def progress(self, done: float, total: float) -> None:
        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.name, bar_format=FORMAT, leave=False, disable=None, position=0)
        self.bar.n = done
        self.bar.refresh()
        self.report(done / total if total else 1.0)
