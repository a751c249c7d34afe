"""`muse-fx audacity panel`: the Tk window driven with Tk's own events, against the real Audacity under Xvfb."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest
import soundfile as sf
from audacity_fixture import audacity_for_tests

from muse_fx import MuseEnhance
from muse_fx.files import enhance_file
from muse_fx.integrations import audacity_pipe, audacity_tasks
from muse_fx.integrations.audacity import parse_json
from muse_fx.integrations.audacity_panel_settings import PanelSettings, load_settings, save_settings
from muse_fx.integrations.audacity_pipe import quote

try:
    import tkinter as tk

    from muse_fx.integrations.audacity_panel import CANCELLED, Panel
except ImportError as error:  # a Python built without Tk
    tk = None
    NO_TK = f"the panel needs Tk, which this Python lacks ({error}); Debian: apt-get install python3-tk"

RATE = 44100
START, END = 0.5, 1.25
WAV_ENCODING_PREF = "/FileFormats/ExportFormat_SF1_Type/WAV_10000"
ARTIFACTS = Path(os.environ.get("MUSE_FX_TEST_ARTIFACTS", Path(__file__).parents[1] / "test-artifacts"))


# --- settings, without a window -------------------------------------------------------------------------


def test_settings_round_trip_and_a_damaged_file_loses_only_the_bad_value(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    path = tmp_path / "panel.toml"
    assert load_settings(path) == PanelSettings()  # no file yet
    mine = PanelSettings(preset="gentle", strength=0.4, mix=0.35, server="http://studio:8765")
    save_settings(mine, path)
    assert load_settings(path) == mine
    path.write_text('preset = "gentle"\nstrength = 7\nmix = "loud"\nserver = "studio"\n')
    assert load_settings(path) == PanelSettings(preset="gentle")
    path.write_bytes(b"\xff not toml")
    assert load_settings(path) == PanelSettings()


@pytest.mark.parametrize(
    "settings, words",
    [
        (PanelSettings(server="studio-pc:8765"), "The server must be a URL like http://studio-pc:8765"),
        (PanelSettings(preset="deleted-since"), "There is no preset 'deleted-since' any more"),
        (PanelSettings(strength=1.5), "Strength must be between 0.0"),
    ],
)
def test_unusable_settings_are_named_before_anything_runs(settings, words):
    assert settings.problem().startswith(words)


@pytest.mark.skipif(tk is None or not sys.platform.startswith("linux"), reason="X11 displays: Linux with Tk")
def test_without_a_display_the_command_says_so_in_one_line(monkeypatch):
    from click.testing import CliRunner

    from muse_fx.cli import main

    monkeypatch.delenv("DISPLAY", raising=False)
    result = CliRunner().invoke(main, ["audacity", "panel"])
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot open the panel's window (") and "Traceback" not in result.output


# --- the window, against a real Audacity ------------------------------------------------------------------


@pytest.fixture(scope="module")
def audacity(tmp_path_factory):
    if tk is None:
        (pytest.fail if os.environ.get("MUSE_FX_REQUIRE_AUDACITY") == "1" else pytest.skip)(NO_TK)
    with audacity_for_tests(tmp_path_factory.mktemp("audacity")) as app:
        yield app


@pytest.fixture
def source(audacity, tmp_path):
    """A project holding one stereo track "guitar" of noise; returns its audio."""
    guitar = (0.25 * np.random.default_rng(1).standard_normal((3 * RATE, 2))).astype(np.float32)
    sf.write(tmp_path / "guitar.wav", guitar, RATE, subtype="FLOAT")
    with audacity.connect() as pipe:
        if parse_json(pipe.command("GetInfo: Type=Tracks Format=JSON")):
            pipe.command("SelectAll:")
            pipe.command("RemoveTracks:")
        pipe.command(f"Import2: Filename={quote(tmp_path / 'guitar.wav')}")
        pipe.command(f"SetPreference: Name={WAV_ENCODING_PREF} Value=2")  # the user exports 16-bit WAV
        pipe.command(f"Select: Start={START} End={END} Track=0 TrackCount=1 Mode=Set")
    return guitar


@pytest.fixture
def window(audacity, tmp_path, tiny_model_path, monkeypatch):
    """The panel on Audacity's display, its settings and caches in tmp_path, enhancing with the tiny model."""
    monkeypatch.setenv("DISPLAY", audacity.display)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    root = tk.Tk()
    panel = Panel(root, tmp_path / "panel.toml", engine={"model": str(tiny_model_path), "device": "cpu"})
    pump(root)
    yield panel
    if panel.worker is not None:
        panel.close()
        pump(root, lambda: panel.worker is None)
    try:
        root.destroy()
    except tk.TclError:
        pass  # closed by the test


def pump(root, done=lambda: True, timeout: float = 60.0) -> None:
    """Run Tk's event loop until `done()`, as mainloop would."""
    deadline = time.monotonic() + timeout
    root.update()
    while not done():
        assert time.monotonic() < deadline, "the panel did not get there in time"
        time.sleep(0.02)
        root.update()


def click(widget) -> None:
    """A left click, as the X server would deliver it."""
    widget.event_generate("<Enter>", x=5, y=5)
    widget.event_generate("<ButtonPress-1>", x=5, y=5)
    widget.event_generate("<ButtonRelease-1>", x=5, y=5)


def keys(widget, *events: str) -> None:
    """Key presses (Tk event patterns, e.g. "<Control-Left>") into `widget`, which gets the focus first."""
    widget.focus_force()
    widget.update()
    for event in events:
        widget.event_generate(event)
    widget.update()


KEYSYMS = {":": "colon", "/": "slash", ".": "period"}


def type_text(widget, text: str) -> None:
    widget.focus_force()
    widget.update()
    for character in text:
        widget.event_generate("<KeyPress>", keysym=KEYSYMS.get(character, character))
    widget.update()


def choose_preset(panel, name: str) -> None:
    panel.presets.set(name)
    panel.presets.event_generate("<<ComboboxSelected>>")


def run_to_end(panel, button) -> str:
    click(button)
    pump(panel.root, lambda: panel.worker is not None)
    pump(panel.root, lambda: panel.worker is None)
    return panel.status.get()


def tracks(audacity) -> list[tuple[str, float, float]]:
    with audacity.connect() as pipe:
        return [(t["name"], t["start"], t["end"]) for t in parse_json(pipe.command("GetInfo: Type=Tracks Format=JSON"))]


def test_the_window_stays_on_top_and_remembers_what_was_chosen(window, tmp_path):
    assert window.root.attributes("-topmost") == 1
    choose_preset(window, "gentle")
    assert (window.levels["strength"].get(), window.levels["mix"].get()) == (
        1.0,
        0.35,
    )  # the sliders start at the preset's own
    keys(window.sliders[0], "<Control-Left>", "<Control-Left>", "<Left>")  # 1.0 → 0.79
    type_text(window.server_entry, "http://studio:8765")
    assert window.settings() == PanelSettings("gentle", 0.79, 0.35, "http://studio:8765")

    window.root.tk.call(window.root.protocol("WM_DELETE_WINDOW"))  # what the window manager's close button runs
    assert load_settings(tmp_path / "panel.toml") == PanelSettings("gentle", 0.79, 0.35, "http://studio:8765")
    again = Panel(tk.Tk(), tmp_path / "panel.toml")
    assert again.settings() == PanelSettings("gentle", 0.79, 0.35, "http://studio:8765")
    again.root.destroy()


def test_settings_that_cannot_be_kept_do_not_stop_the_panel_closing(audacity, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", audacity.display)
    (tmp_path / "a file").write_text("")
    panel = Panel(tk.Tk(), tmp_path / "a file" / "panel.toml")
    panel.close()
    assert f"could not keep the panel's settings in {tmp_path / 'a file' / 'panel.toml'}" in capsys.readouterr().err
    with pytest.raises(tk.TclError, match="application has been destroyed"):
        panel.root.winfo_exists()


def test_a_server_that_is_not_a_url_is_named_and_nothing_runs(window):
    type_text(window.server_entry, "studio:8765")
    click(window.enhance_button)
    window.root.update()
    assert window.worker is None and window.status.get().startswith("The server must be a URL like http://")


def test_the_command_opens_the_panel_and_a_stop_signal_closes_it_saving_the_settings(audacity, tmp_path):
    saved = tmp_path / "config" / "muse-fx" / "audacity-panel.toml"
    saved.parent.mkdir(parents=True)
    saved.write_text('preset = "gentle"\nstrength = 1\n')  # as a person might write it
    env = {
        **os.environ,
        "DISPLAY": audacity.display,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")]),
    }
    panel = subprocess.Popen(
        [sys.executable, "-c", "from muse_fx.cli import main; main(['audacity', 'panel'])"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        found = subprocess.run(
            ["xdotool", "search", "--sync", "--name", "^muse_fx$"],
            env=env,
            timeout=60,
            capture_output=True,
            text=True,
            check=False,
        )
        assert found.returncode == 0, found.stderr
        panel.send_signal(signal.SIGTERM)
        _, stderr = panel.communicate(timeout=30)
    finally:
        if panel.poll() is None:
            panel.kill()
    assert panel.returncode == 128 + signal.SIGTERM, stderr
    assert saved.read_text() == 'preset = "gentle"\nstrength = 1.0\nmix = 1.0\nserver = ""\n'


def test_enhance_selection_adds_a_track_made_with_the_chosen_strength_and_mix(window, audacity, source, tmp_path):
    window.levels["strength"].set(0.3)
    window.levels["mix"].set(0.8)

    status = run_to_end(window, window.enhance_button)

    assert status.startswith("Added 'guitar (muse_fx)'"), status
    assert tracks(audacity) == [("guitar", 0, 3), ("guitar (muse_fx)", START, END)]
    first, last = round(START * RATE), round(END * RATE)
    sf.write(tmp_path / "selection.wav", source[first:last], RATE, subtype="FLOAT")
    enhance_file(
        MuseEnhance(model=window.engine["model"], device="cpu", strength=0.3, mix=0.8),
        tmp_path / "selection.wav",
        tmp_path / "expected.wav",
    )
    with audacity.connect() as pipe:
        assert pipe.command(f"GetPreference: Name={WAV_ENCODING_PREF}") == "2"  # the user's export setting is back
        pipe.command(f"SetPreference: Name={WAV_ENCODING_PREF} Value=6")
        pipe.command(f"Select: Start={START} End={END} Track=1 TrackCount=1 Mode=Set")
        pipe.command(f"Export2: Filename={quote(tmp_path / 'added.wav')} NumChannels=2")
    added, expected = sf.read(tmp_path / "added.wav")[0], sf.read(tmp_path / "expected.wav")[0]
    np.testing.assert_allclose(added, expected, atol=1e-6)
    assert window.progress["value"] == 1.0 and str(window.cancel_button["state"]) == "disabled"


def test_nothing_selected_is_said_in_plain_words(window, audacity, source):
    with audacity.connect() as pipe:
        pipe.command("SelectNone:")
    assert run_to_end(window, window.enhance_button).startswith("Nothing is selected in Audacity")
    assert run_to_end(window, window.audition_button).startswith("Nothing is selected in Audacity")
    assert tracks(audacity) == [("guitar", 0, 3)]


def test_pipe_disabled_and_audacity_not_running_are_told_apart(window, tmp_path, monkeypatch):
    monkeypatch.setattr(audacity_pipe, "pipe_paths", lambda: (str(tmp_path / "to"), str(tmp_path / "from")))
    assert run_to_end(window, window.enhance_button) == audacity_tasks.PIPE_DISABLED  # Audacity runs: pipe off
    assert "mod-script-pipe" in audacity_tasks.PIPE_DISABLED
    monkeypatch.setattr(audacity_tasks, "audacity_running", lambda: False)
    assert run_to_end(window, window.audition_button) == audacity_tasks.NOT_RUNNING
    window._check_audacity()  # the idle check says so too, without a button
    assert window.status.get() == audacity_tasks.NOT_RUNNING


def slow_model(server, preset, fallback_local=False, progress=None, **settings):
    """Stand-in for make_enhance_file that takes 20 s unless cancelled through its progress callback."""

    def enhance(source, destination):
        for step in range(400):
            progress(step * 0.05, 20.0)
            time.sleep(0.05)
        raise AssertionError("not cancelled")

    return enhance


@pytest.mark.parametrize("how", ["Cancel button", "window closed"])
def test_cancel_stops_at_the_next_step_and_leaves_audacity_as_it_was(
    window, audacity, source, tmp_path, monkeypatch, how
):
    monkeypatch.setattr("muse_fx.files.make_enhance_file", slow_model)
    choose_preset(window, "vocal-cleanup")
    window.levels["strength"].set(0.8)
    click(window.enhance_button)
    pump(window.root, lambda: window.status.get().startswith("Enhancing track 1") and window.progress["value"] > 0.3)
    assert str(window.cancel_button["state"]) == "normal" and str(window.enhance_button["state"]) == "disabled"
    if how == "Cancel button":
        save_screenshot(window.root, ARTIFACTS / "audacity-panel.png")  # the picture in the README
        click(window.cancel_button)
        pump(window.root, lambda: window.worker is None, timeout=10)
        assert window.status.get() == CANCELLED[audacity_tasks.enhance_task]
    else:
        window.close()
        pump(window.root, lambda: window.worker is None, timeout=10)
        with pytest.raises(tk.TclError, match="application has been destroyed"):  # closed once cleaned up
            window.root.winfo_exists()
    assert tracks(audacity) == [("guitar", 0, 3)]
    with audacity.connect() as pipe:
        assert pipe.command(f"GetPreference: Name={WAV_ENCODING_PREF}") == "2"
    assert list((tmp_path / "tmp").iterdir()) == []  # the exported selection is gone too


def test_audition_opens_a_page_for_the_selected_range(window, source, tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    choose_preset(window, "gentle")
    window.levels["strength"].set(0.3)

    status = run_to_end(window, window.audition_button)

    assert status.startswith("Opened the audition page"), status
    page = Path(unquote(urlparse(opened[0]).path))
    assert page == tmp_path / "cache" / "muse-fx" / "audacity-audition" / "page" / "index.html"
    data = json.loads((page.parent / "data.js").read_text().removeprefix("window.AUDITION = ").rstrip().rstrip(";"))
    assert data["source"] == "guitar.wav" and data["duration"] == pytest.approx(END - START, abs=1 / RATE)
    assert [item["label"] for item in data["items"]] == [
        "original",
        "gentle · strength 0.3",
        "gentle · strength 0.5",
        "gentle · strength 1",
    ]
    assert "--mix 0.35" in data["items"][1]["command"] and "--strength 0.3" in data["items"][1]["command"]
    for item in data["items"]:
        assert (page.parent / item["audio"]).is_file()


def save_screenshot(root, path: Path) -> None:
    """The window as the user sees it: kept with the test artefacts (docs/images has a copy)."""
    from PIL import ImageGrab

    root.lift()  # there is no window manager to keep it on top of Audacity's window
    root.update()
    x, y = root.winfo_rootx(), root.winfo_rooty()
    box = (x, y, x + root.winfo_width(), y + root.winfo_height())
    path.parent.mkdir(parents=True, exist_ok=True)
    ImageGrab.grab(bbox=box, xdisplay=os.environ["DISPLAY"]).save(path)
