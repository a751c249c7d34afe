"""What the Audacity panel's buttons do, without any Tk: enhance or audition the selection in a worker thread,
reporting progress and stopping at the next step once cancelled, and every problem in plain words.

Cancelling raises `Cancelled` from inside the work, so the workflow's own clean-up runs as on Ctrl-C: the
user's selection and export setting are put back and no temporary file is left.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import platformdirs
import psutil
import soundfile as sf

from muse_fx.errors import MuseFxError
from muse_fx.integrations import audacity_pipe
from muse_fx.integrations.audacity import enhance_selection, export_selection
from muse_fx.integrations.audacity_panel_settings import PanelSettings
from muse_fx.integrations.audacity_pipe import AudacityNotRunningError, AudacityPipe, AudacityTimeoutError

Progress = Callable[[float | None, str], None]
"""``progress(fraction, what)``: how far the task is (None: unknown) and what it is doing, in words."""

MIN_AUDITION_SECONDS = 0.5  # integrated loudness needs 0.4 s blocks
READY = "Ready: select audio in Audacity, then press a button."
NOT_RUNNING = "Audacity is not running: start it, then try again."
PIPE_DISABLED = (
    "Audacity's scripting pipe is disabled: in Audacity open Edit > Preferences > Modules, set mod-script-pipe "
    "to Enabled, then restart Audacity."
)
DIALOG_OPEN = "Audacity is not answering, most likely because it shows a dialog: close it, then try again."


class Cancelled(Exception):
    """The user pressed Cancel."""


def enhance_task(
    settings: PanelSettings, progress: Progress, cancel: threading.Event, engine: dict, timeout: float = 30.0
) -> str:
    """Enhance the selection into new tracks, as `muse-fx audacity enhance-selection` does; returns what was done.

    The model loads only once the selection has been read, so a missing selection is reported at once."""
    from muse_fx.files import make_enhance_file

    tracks: list = []
    adapter = None
    plugin_options: dict = {**settings.levels(), **engine}  # MuseEnhance's keywords: the sliders, model, device…

    def step(done: float, total: float) -> None:
        _check(cancel)
        progress(done / total if total else None, f"Enhancing track {len(tracks)}…")

    def enhance_file(source: Path, destination: Path) -> None:
        nonlocal adapter
        tracks.append(source)
        if adapter is None:
            progress(None, "Loading the model…" if not settings.server else f"Connecting to {settings.server}…")
            adapter = make_enhance_file(
                server=settings.server or None,
                preset=settings.preset or None,
                progress=step,
                **plugin_options,
            )
        step(0.0, 0.0)
        adapter(source, destination)

    progress(None, "Reading the selection in Audacity…")
    with AudacityPipe(timeout=timeout) as pipe:
        added = enhance_selection(pipe, enhance_file)
    return f"Added {', '.join(repr(name) for name in added)}: solo it and the original in turn to compare."


def audition_task(
    settings: PanelSettings,
    progress: Progress,
    cancel: threading.Event,
    engine: dict,
    timeout: float = 30.0,
    folder: Path | None = None,
) -> Path:
    """Write an audition page for the selection (the first selected track): the panel's preset and sliders, each
    slider that `muse-fx audition` sweeps (DEFAULT_SWEEPS) also at those values. Returns the page; each audition
    replaces the previous one."""
    from muse_fx.audition.page import write_audition
    from muse_fx.audition.variants import DEFAULT_SWEEPS, plan

    folder = folder or platformdirs.user_cache_path("muse-fx") / "audacity-audition"
    excerpts = folder / "selection"
    shutil.rmtree(excerpts, ignore_errors=True)  # our own folder: last time's excerpt
    excerpts.mkdir(parents=True)
    progress(None, "Exporting the selection from Audacity…")
    with AudacityPipe(timeout=timeout) as pipe:  # closed before rendering: Audacity serves one client at a time
        source = export_selection(pipe, excerpts)
    _check_long_enough(source)
    levels = settings.levels()
    sweeps = {name: sorted({*values, levels.pop(name)}) for name, values in DEFAULT_SWEEPS.items()}
    variants = plan([settings.preset or None], sweeps)
    common = {**engine, **levels, "server": settings.server or None}
    rendered = iter(range(len(variants)))

    def report(line: str) -> None:
        _check(cancel)
        progress(next(rendered) / len(variants), f"{line[0].upper()}{line[1:]}…")

    write_audition(source, variants, common, folder / "page", overwrite=True, report=report)
    return folder / "page" / "index.html"


def idle_status() -> str:
    """Whether Audacity can be reached, found without connecting (a connection would take Audacity's one
    scripting client slot from whoever else uses it)."""
    if Path(audacity_pipe.pipe_paths()[0]).exists():
        return READY
    return PIPE_DISABLED if audacity_running() else NOT_RUNNING


def in_plain_words(error: BaseException) -> str:
    """The status line for a task that failed."""
    if isinstance(error, AudacityNotRunningError):
        reason = idle_status()
        return str(error) if reason == READY else reason  # READY: it answered before, then went away
    if isinstance(error, AudacityTimeoutError):
        return DIALOG_OPEN
    if isinstance(error, MuseFxError):
        return str(error)
    return f"Unexpected {type(error).__name__}: {error} (details in the terminal that started the panel)."


def audacity_running() -> bool:
    for process in psutil.process_iter(["name"]):
        if "audacity" in (process.info["name"] or "").lower():
            return True
    return False


def _check(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise Cancelled()


def _check_long_enough(source: Path) -> None:
    seconds = sf.info(source).duration
    if seconds < MIN_AUDITION_SECONDS:
        raise audacity_pipe.AudacityError(
            f"The selection is {seconds:.2f} s long: select at least {MIN_AUDITION_SECONDS:g} s to audition."
        )
