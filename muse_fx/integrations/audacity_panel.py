"""`muse-fx audacity panel`: a small always-on-top Tk window that enhances or auditions Audacity's selection.

Tk runs in the main thread only; each button's work (`audacity_tasks`) runs in a worker thread that talks to
the window through a queue, which the window drains every POLL_MS. Cancel (or closing the window, or a stop
signal) asks the worker to stop at its next step; the window waits for its clean-up before it closes.
"""

from __future__ import annotations

import queue
import signal
import sys
import threading
import tkinter as tk
import traceback
import webbrowser
from collections.abc import Callable
from pathlib import Path
from tkinter import ttk

from muse_fx.errors import MuseFxError
from muse_fx.integrations.audacity_panel_settings import (
    PanelSettings,
    load_settings,
    preset_levels,
    save_settings,
    settings_path,
)
from muse_fx.integrations.audacity_tasks import Cancelled, audition_task, enhance_task, idle_status, in_plain_words
from muse_fx.interrupts import STOP_SIGNALS
from muse_fx.presets.files import available

TITLE = "muse_fx"
DEFAULT_PRESET = "(default)"
POLL_MS = 100
IDLE_CHECK_MS = 3000
CANCELLED = {
    enhance_task: "Cancelled. Tracks finished before stay in Audacity (Edit > Undo takes them away); nothing "
    "else was changed.",
    audition_task: "Cancelled: no audition page was written.",
}


class Panel:
    """The window's widgets and what they do; `engine` (model, device…) goes to every MuseEnhance it builds."""

    def __init__(self, root: tk.Tk, settings_file: Path, engine: dict | None = None):
        self.root, self.settings_file, self.engine = root, settings_file, engine or {}
        self.events: queue.Queue[tuple] = queue.Queue()
        self.cancelled = threading.Event()
        self.worker: threading.Thread | None = None
        self.closing = False
        saved = load_settings(settings_file)
        self.preset = tk.StringVar(root, saved.preset or DEFAULT_PRESET)
        self.levels = {name: tk.DoubleVar(root, value) for name, value in saved.levels().items()}  # the sliders
        self.server = tk.StringVar(root, saved.server)
        self.idle = idle_status()
        self.status = tk.StringVar(root, self.idle)
        self._build()
        root.title(TITLE)
        root.attributes("-topmost", True)
        root.resizable(False, False)
        root.protocol("WM_DELETE_WINDOW", self.close)
        root.after(POLL_MS, self._poll)
        root.after(IDLE_CHECK_MS, self._check_audacity)

    def _build(self) -> None:
        frame = ttk.Frame(self.root, padding=8)
        frame.grid(sticky="nsew")
        ttk.Label(frame, text="Preset").grid(row=0, column=0, sticky="w")
        self.presets = ttk.Combobox(
            frame, textvariable=self.preset, state="readonly", width=24, values=[DEFAULT_PRESET, *sorted(available())]
        )
        self.presets.grid(row=0, column=1, columnspan=2, sticky="ew", pady=2)
        self.presets.bind("<<ComboboxSelected>>", self._preset_chosen)
        self.sliders = []
        for row, (name, variable) in enumerate(self.levels.items(), start=1):
            ttk.Label(frame, text=name.capitalize()).grid(row=row, column=0, sticky="w")
            slider = tk.Scale(
                frame,
                variable=variable,
                from_=0.0,
                to=1.0,
                resolution=0.01,
                bigincrement=0.1,
                orient="horizontal",
                length=220,
                takefocus=True,
            )
            slider.grid(row=row, column=1, columnspan=2, sticky="ew")
            self.sliders.append(slider)
        ttk.Label(frame, text="Server").grid(row=3, column=0, sticky="w")
        self.server_entry = ttk.Entry(frame, textvariable=self.server, width=26)
        self.server_entry.grid(row=3, column=1, columnspan=2, sticky="ew", pady=2)
        ttk.Label(frame, text="empty: enhance on this computer", foreground="gray").grid(
            row=4, column=1, columnspan=2, sticky="w"
        )
        self.enhance_button = ttk.Button(frame, text="Enhance selection", command=lambda: self.start(enhance_task))
        self.audition_button = ttk.Button(frame, text="Audition selection", command=lambda: self.start(audition_task))
        self.cancel_button = ttk.Button(frame, text="Cancel", command=self.cancel, state="disabled")
        for column, button in enumerate((self.enhance_button, self.audition_button, self.cancel_button)):
            button.grid(row=5, column=column, sticky="ew", padx=2, pady=(8, 4))
        self.progress = ttk.Progressbar(frame, maximum=1.0, length=330)
        self.progress.grid(row=6, column=0, columnspan=3, sticky="ew")
        ttk.Label(frame, textvariable=self.status, wraplength=330, justify="left").grid(
            row=7, column=0, columnspan=3, sticky="w", pady=(4, 0)
        )

    def settings(self) -> PanelSettings:
        preset = self.preset.get()
        return PanelSettings(
            preset="" if preset == DEFAULT_PRESET else preset,
            server=self.server.get().strip(),
            **{name: round(variable.get(), 2) for name, variable in self.levels.items()},
        )

    def _preset_chosen(self, event=None) -> None:
        """The sliders start where the preset puts them, so running it unchanged is running the preset."""
        for name, value in preset_levels(self.settings().preset).items():
            self.levels[name].set(value)

    # -- running a task -----------------------------------------------------------------------------------
    def start(self, task: Callable) -> None:
        if self.worker is not None:
            return
        settings = self.settings()
        problem = settings.problem()
        if problem:
            self.status.set(problem)
            return
        self._save(settings)
        self.cancelled.clear()
        self._running(True)
        self.worker = threading.Thread(target=self._work, args=(task, settings), daemon=True)
        self.worker.start()

    def _work(self, task: Callable, settings: PanelSettings) -> None:
        """Worker thread: never touches Tk, only the queue."""
        try:
            result = task(
                settings,
                lambda fraction, what: self.events.put(("progress", fraction, what)),
                self.cancelled,
                self.engine,
            )
            self.events.put(("done", task, result))
        except Cancelled:
            self.events.put(("ended", CANCELLED[task]))
        except Exception as error:
            if not isinstance(error, MuseFxError):
                traceback.print_exc()
            self.events.put(("ended", in_plain_words(error)))

    def cancel(self) -> None:
        if self.worker is not None:
            self.cancelled.set()
            self.status.set("Cancelling: stopping at the next step…")

    def close(self) -> None:
        """Save the settings and close, once a running task has cleaned up after itself."""
        self._save(self.settings())
        self.closing = True
        if self.worker is None:
            self.root.destroy()
        else:
            self.cancel()

    def _save(self, settings: PanelSettings) -> None:
        """Keep the settings for next time; a folder that cannot be written costs the memory, not the work."""
        try:
            save_settings(settings, self.settings_file)
        except OSError as error:
            print(f"muse-fx: could not keep the panel's settings in {self.settings_file}: {error}", file=sys.stderr)

    def _poll(self) -> None:
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            if event[0] == "progress":
                self._show_progress(*event[1:])
            else:
                self._finish(event)
                if self.closing:
                    self.root.destroy()
                    return
        self.root.after(POLL_MS, self._poll)

    def _show_progress(self, fraction: float | None, what: str) -> None:
        if not self.cancelled.is_set():
            self.status.set(what)
        if fraction is None:
            if str(self.progress["mode"]) != "indeterminate":
                self.progress.configure(mode="indeterminate")
                self.progress.start(15)
        else:
            self.progress.stop()
            self.progress.configure(mode="determinate", value=fraction)

    def _finish(self, event: tuple) -> None:
        if self.worker is not None:
            self.worker.join()
        self.worker = None
        self._running(False)
        if event[0] == "ended":
            self.status.set(event[1])
            return
        _, task, result = event
        if task is audition_task:
            webbrowser.open(result.as_uri())
            result = f"Opened the audition page ({result}): keys 0-9 switch versions at the same moment."
        self.status.set(result)
        self.progress.configure(value=1.0)

    def _running(self, running: bool) -> None:
        self.progress.stop()
        self.progress.configure(mode="determinate", value=0.0)
        for button in (self.enhance_button, self.audition_button):
            button.configure(state="disabled" if running else "normal")
        self.cancel_button.configure(state="normal" if running else "disabled")

    def _check_audacity(self) -> None:
        """Every few seconds while idle: say so when Audacity starts, quits, or has its pipe turned off."""
        if self.worker is None:
            now = idle_status()
            if now != self.idle:
                self.idle = now
                self.status.set(now)
        self.root.after(IDLE_CHECK_MS, self._check_audacity)


def run_panel(engine: dict | None = None) -> int:
    """Show the panel until it is closed; returns the exit status (128 + signal number after a stop signal)."""
    try:
        root = tk.Tk()
    except tk.TclError as error:
        raise MuseFxError(
            f"cannot open the panel's window ({error}): run it on the desktop where Audacity runs"
        ) from None
    panel = Panel(root, settings_path(), engine)
    stopped_by = []

    def stop(signum, frame) -> None:
        stopped_by.append(signum)
        panel.close()

    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, *STOP_SIGNALS)}
    try:
        root.mainloop()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return 128 + stopped_by[0] if stopped_by else 0
