"""The Audacity adapter: the pipe protocol against a fake Audacity, the workflow against a real one."""

from __future__ import annotations

import _thread
import contextlib
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audacity_fixture import QUIT, FakeAudacity, audacity_for_tests, reply
from click.testing import CliRunner

from muse_fx import files
from muse_fx.cli import main
from muse_fx.integrations import audacity_pipe
from muse_fx.integrations.audacity import enhance_selection, parse_json, read_selection
from muse_fx.integrations.audacity_pipe import (
    AudacityCommandError,
    AudacityError,
    AudacityNotRunningError,
    AudacityPipe,
    AudacityTimeoutError,
    pipe_paths,
    quote,
)
from muse_fx.interrupts import Stopped, interrupts_deferred, stop_signals_interrupt

RATE = 44100
START, END = 0.5, 1.25  # the selection, on whole samples: 22050 and 55125
SOURCE_NAME = 'guitar "take 2" \\ DI'  # a quote and a backslash, which Audacity's JSON does not escape
WAV_ENCODING_PREF = "/FileFormats/ExportFormat_SF1_Type/WAV_10000"


# --- the pipe protocol, against a fake Audacity ---------------------------------------------------------


def test_pipe_paths_are_the_ones_mod_script_pipe_creates():
    to_path, from_path = pipe_paths("linux", uid=1000)
    assert (to_path, from_path) == ("/tmp/audacity_script_pipe.to.1000", "/tmp/audacity_script_pipe.from.1000")
    assert pipe_paths("darwin", uid=501)[1] == "/tmp/audacity_script_pipe.from.501"
    assert pipe_paths("win32") == (r"\\.\pipe\ToSrvPipe", r"\\.\pipe\FromSrvPipe")


def test_quote_escapes_what_audacity_unescapes():
    assert quote('a "b" c\\d') == '"a \\"b\\" c\\\\d"'


def test_parse_json_accepts_unescaped_backslashes():
    assert parse_json('[ { "name":"a \\"b\\" c\\d" } ]') == [{"name": 'a "b" c\\d'}]
    assert parse_json('[ { "name":"tab\\there" } ]') == [{"name": "tab\there"}]


@pytest.fixture
def fifo_dir(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("the fake Audacity needs POSIX named pipes")
    return tmp_path


def test_command_returns_the_output_without_status_lines(fifo_dir):
    tracks = '[ \n  { "name":"a", "kind":"wave" } ]'
    fake = FakeAudacity(fifo_dir, lambda command: reply(tracks) if command.startswith("GetInfo") else reply())
    with AudacityPipe(fake.paths, timeout=5) as pipe:
        assert pipe.command("Select: Start=0 End=1") == ""
        assert pipe.command("GetInfo: Type=Tracks Format=JSON") == tracks
    assert fake.received == ["Select: Start=0 End=1", "GetInfo: Type=Tracks Format=JSON"]


def test_failed_command_raises_with_audacitys_words(fifo_dir):
    refusal = reply("Your batch command of Bogus was not recognized.", "Failed!")
    fake = FakeAudacity(fifo_dir, lambda command: refusal)
    with AudacityPipe(fake.paths, timeout=5) as pipe, pytest.raises(AudacityCommandError, match="not recognized"):
        pipe.command("Bogus:")


def test_unanswered_command_times_out_instead_of_hanging(fifo_dir):
    fake = FakeAudacity(fifo_dir, lambda command: None)  # as when a modal dialog is open
    with AudacityPipe(fake.paths, timeout=0.3) as pipe:
        started = time.monotonic()
        with pytest.raises(AudacityTimeoutError, match="dialog"):
            pipe.command("Export2: Filename=x.wav")
        assert time.monotonic() - started < 2
        with pytest.raises(AudacityTimeoutError):  # the reply may still come: never mistake it for another's
            pipe.command("GetInfo: Type=Tracks")


def test_connecting_drops_lost_and_stale_replies(fifo_dir):
    fake = FakeAudacity(fifo_dir, lambda command: reply("fresh"), drop_tokens=1, stale=reply("old"))
    with AudacityPipe(fake.paths, timeout=5) as pipe:
        assert pipe.command("GetInfo: Type=Tracks") == "fresh"
    assert fake.tokens == 2


def test_audacity_stuck_in_a_dialog_from_the_start_times_out(fifo_dir):
    fake = FakeAudacity(fifo_dir, lambda command: reply(), drop_tokens=1000)
    with pytest.raises(AudacityTimeoutError, match="dialog"):
        AudacityPipe(fake.paths, timeout=0.3)


def test_audacity_quitting_while_we_wait_is_reported_as_quit_not_as_a_dialog(fifo_dir):
    fake = FakeAudacity(fifo_dir, lambda command: QUIT)
    with AudacityPipe(fake.paths, timeout=5) as pipe:
        started = time.monotonic()
        with pytest.raises(AudacityNotRunningError) as raised:
            pipe.command("Export2: Filename=x.wav")
        assert time.monotonic() - started < 3  # noticed, not waited out
    assert "no longer running" in str(raised.value) and "dialog" not in str(raised.value)


def test_after_an_interrupted_wait_each_command_still_gets_its_own_reply(fifo_dir):
    def answer(command):
        if command == "Slow:":
            time.sleep(0.5)
        return reply(f"answer to {command}")

    fake = FakeAudacity(fifo_dir, answer)
    # A test run started in the background inherits SIGINT ignored, and interrupt_main then does nothing.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with AudacityPipe(fake.paths, timeout=5) as pipe:
            threading.Timer(0.1, _thread.interrupt_main).start()  # Ctrl-C (or SIGTERM) while Slow: is running
            with pytest.raises(KeyboardInterrupt):
                pipe.command("Slow:")
            assert pipe.command("Restore:") == "answer to Restore:"  # as the clean-up after Ctrl-C does
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_signal_inside_interrupts_deferred_takes_effect_when_the_block_ends():
    finished = []
    with stop_signals_interrupt(), pytest.raises(Stopped):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # a Python handler would have run by now
            finished.append("the step")
    assert finished == ["the step"]


def test_missing_pipe_says_how_to_enable_mod_script_pipe(tmp_path):
    with pytest.raises(AudacityNotRunningError) as raised:
        AudacityPipe((str(tmp_path / "to"), str(tmp_path / "from")))
    assert "not running" in str(raised.value)
    assert "Preferences > Modules" in str(raised.value) and "mod-script-pipe" in str(raised.value)


def test_pipe_left_by_a_crashed_audacity_is_reported(fifo_dir):
    os.mkfifo(fifo_dir / "to")
    with pytest.raises(AudacityNotRunningError, match="Nothing answers"):
        AudacityPipe((str(fifo_dir / "to"), str(fifo_dir / "from")), connect_timeout=0.1)


def test_nothing_selected_changes_nothing(fifo_dir):
    fake = FakeAudacity(fifo_dir, lambda command: reply("[ ]") if command.startswith("GetInfo") else reply())
    with AudacityPipe(fake.paths, timeout=5) as pipe, pytest.raises(AudacityError, match="Nothing is selected"):
        enhance_selection(pipe, lambda source, destination: None)
    assert fake.received == ["GetInfo: Type=Tracks Format=JSON"]


def test_cli_reports_a_closed_audacity(tmp_path, monkeypatch):
    monkeypatch.setattr(audacity_pipe, "pipe_paths", lambda: (str(tmp_path / "to"), str(tmp_path / "from")))
    result = CliRunner().invoke(main, ["audacity", "enhance-selection", "--timeout", "5"])
    assert result.exit_code == 1
    assert "mod-script-pipe" in result.output


@pytest.mark.parametrize("option", ["--strength", "--mix"])
def test_cli_refuses_an_out_of_range_setting_before_touching_audacity(tmp_path, monkeypatch, option):
    monkeypatch.setattr(audacity_pipe, "pipe_paths", lambda: (str(tmp_path / "to"), str(tmp_path / "from")))
    result = CliRunner().invoke(main, ["audacity", "enhance-selection", option, "1.5"])
    assert result.exit_code == 2
    assert f"Invalid value for '{option}': 1.5 is not in the range 0<=x<=1" in result.output


def test_the_adapters_enhance_file_applies_the_chosen_settings(tiny_model_path, tmp_path):
    from muse_fx import MuseEnhance
    from muse_fx.files import enhance_file

    source = tmp_path / "in.wav"
    sf.write(source, 0.1 * np.random.default_rng(0).standard_normal((RATE // 2, 2)), RATE, subtype="FLOAT")
    seen = []
    adapter = files.make_enhance_file(
        model=str(tiny_model_path),
        device="cpu",
        strength=0.3,
        mix=0.8,
        progress=lambda done, total: seen.append((done, total)),
    )
    adapter(source, tmp_path / "adapter.wav")
    enhance_file(MuseEnhance(model=tiny_model_path, device="cpu", strength=0.3, mix=0.8), source, tmp_path / "api.wav")
    np.testing.assert_array_equal(sf.read(tmp_path / "adapter.wav")[0], sf.read(tmp_path / "api.wav")[0])
    assert seen[-1] == (0.5, 0.5)


# --- the workflow, against a real Audacity under Xvfb ---------------------------------------------------


@pytest.fixture(scope="module")
def audacity(tmp_path_factory):
    with audacity_for_tests(tmp_path_factory.mktemp("audacity")) as app:
        yield app


@pytest.fixture
def project(audacity, tmp_path):
    """An Audacity project holding a stereo SOURCE_NAME track and a mono "bass" track; yields the audio."""
    rng = np.random.default_rng(0)
    guitar = (0.25 * rng.standard_normal((3 * RATE, 2))).astype(np.float32)
    bass = (0.25 * rng.standard_normal(3 * RATE)).astype(np.float32)
    sf.write(tmp_path / f"{SOURCE_NAME}.wav", guitar, RATE, subtype="FLOAT")
    sf.write(tmp_path / "bass.wav", bass, RATE, subtype="FLOAT")
    with audacity.connect() as pipe:
        if parse_json(pipe.command("GetInfo: Type=Tracks Format=JSON")):
            pipe.command("SelectAll:")
            pipe.command("RemoveTracks:")
        for name in (SOURCE_NAME, "bass"):
            pipe.command(f"Import2: Filename={quote(tmp_path / f'{name}.wav')}")
        yield pipe, guitar, bass


def half_gain(captured: list):
    """Stand-in for the model: writes the input at half amplitude and keeps a copy of what it was given."""

    def enhance_file(source, destination):
        audio, rate = sf.read(source, dtype="float32", always_2d=True)
        captured.append((audio, rate, sf.info(source).subtype))
        sf.write(destination, audio * 0.5, rate, subtype="FLOAT")

    return enhance_file


def export(pipe, path, track, start, end, channels):
    """Export ``track`` over [start, end) seconds as 32-bit float, so that samples compare exactly."""
    pipe.command(f"SetPreference: Name={WAV_ENCODING_PREF} Value=6")
    pipe.command(f"Select: Start={start} End={end} Track={track} TrackCount=1 Mode=Set")
    pipe.command(f"Export2: Filename={quote(path)} NumChannels={channels}")
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE
    return audio


def test_enhance_selection_adds_an_aligned_track_and_leaves_the_rest(project, tmp_path):
    pipe, guitar, bass = project
    pipe.command(f"SetPreference: Name={WAV_ENCODING_PREF} Value=2")  # the user exports 16-bit WAV
    pipe.command(f"Select: Start={START} End={END} Track=0 TrackCount=1 Mode=Set")
    captured = []

    assert enhance_selection(pipe, half_gain(captured)) == [f"{SOURCE_NAME} (muse_fx)"]

    first, last = round(START * RATE), round(END * RATE)
    [(exported, rate, subtype)] = captured  # only the selected track, only the selected span, unrounded
    assert (rate, subtype) == (RATE, "FLOAT")
    np.testing.assert_array_equal(exported, guitar[first:last])
    assert pipe.command(f"GetPreference: Name={WAV_ENCODING_PREF}") == "2"  # and gets it back

    tracks = parse_json(pipe.command("GetInfo: Type=Tracks Format=JSON"))
    assert [(t["name"], t["start"], t["end"], t["channels"]) for t in tracks] == [
        (SOURCE_NAME, 0, 3, 2),
        ("bass", 0, 3, 1),
        (f"{SOURCE_NAME} (muse_fx)", START, END, 2),
    ]
    clips = parse_json(pipe.command("GetInfo: Type=Clips Format=JSON"))
    assert [(c["track"], c["start"], c["end"]) for c in clips] == [(0, 0, 3), (1, 0, 3), (2, START, END)]
    selection = read_selection(pipe)  # the user's selection is back
    assert (selection.start, selection.end, [t.index for t in selection.tracks]) == (START, END, [0])

    # Sample-exact placement: silence up to START, then the enhanced span (Export2 stops where audio ends).
    new = export(pipe, tmp_path / "new.wav", 2, START - 0.25, END + 0.25, 2)
    expected = np.zeros((RATE // 4 + last - first, 2), np.float32)
    expected[RATE // 4 :] = 0.5 * guitar[first:last]
    np.testing.assert_array_equal(new, expected)
    np.testing.assert_array_equal(export(pipe, tmp_path / "guitar.wav", 0, 0, 3, 2), guitar)
    np.testing.assert_array_equal(export(pipe, tmp_path / "bass.wav", 1, 0, 3, 1)[:, 0], bass)


def test_each_selected_track_gets_its_own_enhanced_track(project):
    pipe, guitar, bass = project
    pipe.command(f"Select: Start={START} End={END} Track=0 TrackCount=2 Mode=Set")
    captured = []

    names = enhance_selection(pipe, half_gain(captured))

    assert names == [f"{SOURCE_NAME} (muse_fx)", "bass (muse_fx)"]
    assert [audio.shape[1] for audio, _, _ in captured] == [2, 1]
    tracks = parse_json(pipe.command("GetInfo: Type=Tracks Format=JSON"))
    assert [(t["name"], t["start"]) for t in tracks[2:]] == [(name, START) for name in names]


@pytest.mark.parametrize(
    ("select", "message"),
    [
        ("SelectNone:", "Nothing is selected"),
        ("Select: Start=1 End=1 Track=0 TrackCount=1 Mode=Set", "Nothing is selected"),
        ("Select: Start=3.5 End=4 Track=0 TrackCount=1 Mode=Set", "after the end of the audio"),
        ("SetTrack: Track=0 Mute=1", "unmute"),
    ],
    ids=["no tracks", "no time range", "after the audio", "muted"],
)
def test_refuses_what_it_cannot_enhance_and_changes_nothing(project, select, message):
    pipe, _, _ = project
    pipe.command(f"Select: Start={START} End={END} Track=0 TrackCount=1 Mode=Set")
    pipe.command(select)
    before = pipe.command("GetInfo: Type=Tracks Format=JSON")

    with pytest.raises(AudacityError, match=message):
        enhance_selection(pipe, half_gain([]))

    assert pipe.command("GetInfo: Type=Tracks Format=JSON") == before  # no label track or new track left


def test_cli_enhances_the_selection(project, monkeypatch):
    pipe, _, _ = project
    pipe.command(f"Select: Start={START} End={END} Track=1 TrackCount=1 Mode=Set")
    requested = []

    def make_enhance_file(server, preset, fallback_local=False, **settings):
        requested.append((server, preset, settings))
        return half_gain([])

    monkeypatch.setattr(files, "make_enhance_file", make_enhance_file)
    pipe.close()  # the CLI opens its own connection; Audacity serves one client at a time

    result = CliRunner().invoke(
        main,
        [
            "audacity",
            "enhance-selection",
            "--preset",
            "vocals",
            "--strength",
            "0.25",
            "--mix",
            "0.5",
            "--timeout",
            "10",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "added track 'bass (muse_fx)'" in result.output
    assert requested == [(None, "vocals", {"strength": 0.25, "mix": 0.5})]


def saved_names(pipe, folder: Path) -> list[str]:
    """Every `name` attribute in the project as Audacity saves it: each track's, then its clips', in order.

    Audacity 3.2 reports no clip names through scripting; its project file (SQLite) holds the document in a
    binary XML whose attribute names are numbered in `dict` and whose strings are UTF-32.
    """
    pipe.command(f"SaveProject2: Filename={quote(folder / 'saved.aup3')}")
    for suffix in ("", "-wal"):  # Audacity keeps the project locked: read a copy
        if (folder / f"saved.aup3{suffix}").exists():
            shutil.copy(folder / f"saved.aup3{suffix}", folder / f"copy.aup3{suffix}")
    with contextlib.closing(sqlite3.connect(folder / "copy.aup3")) as db:
        names, document = db.execute("SELECT dict, doc FROM project").fetchone()
    ids, at = {}, 2  # after the character-size record
    while at < len(names):  # records: 0x0f, id (u16), byte length (u16), UTF-32 name
        number, length = struct.unpack_from("<HH", names, at + 1)
        ids[names[at + 5 : at + 5 + length].decode("utf-32-le")] = number
        at += 5 + length
    marker = b"\x03" + struct.pack("<H", ids["name"])  # a string attribute called "name"
    found, at = [], document.find(marker)
    while at >= 0:
        (length,) = struct.unpack_from("<I", document, at + 3)
        found.append(document[at + 7 : at + 7 + length].decode("utf-32-le"))
        at = document.find(marker, at + 7 + length)
    return found


def test_the_new_clip_is_named_after_the_source(project, tmp_path):
    pipe, _, _ = project
    pipe.command(f"Select: Start={START} End={END} Track=0 TrackCount=1 Mode=Set")

    enhance_selection(pipe, half_gain([]))

    new = f"{SOURCE_NAME} (muse_fx)"
    assert saved_names(pipe, tmp_path)[-2:] == [new, new]  # the new track, then its one clip


def test_each_take_of_a_track_gets_its_own_name(project, tmp_path):
    """A second take of the same selection is "(muse_fx 2)", its clip too: takes can be told apart."""
    pipe, _, _ = project
    pipe.command(f"Select: Start={START} End={END} Track=0 TrackCount=1 Mode=Set")

    takes = [enhance_selection(pipe, half_gain([])) for _ in range(3)]

    names = [f"{SOURCE_NAME} (muse_fx)", f"{SOURCE_NAME} (muse_fx 2)", f"{SOURCE_NAME} (muse_fx 3)"]
    assert takes == [[name] for name in names]
    tracks = parse_json(pipe.command("GetInfo: Type=Tracks Format=JSON"))
    assert [(t["name"], t["start"]) for t in tracks[2:]] == [(name, START) for name in names]
    assert saved_names(pipe, tmp_path)[-2:] == [names[-1], names[-1]]  # the last track, then its clip


def test_audacity_killed_mid_run_is_reported_as_gone(audacity, project):
    pipe, _, _ = project
    pipe.command(f"Select: Start={START} End={END} Track=0 TrackCount=1 Mode=Set")

    def crash(source, destination):
        audacity.kill()

    try:
        with pytest.raises(AudacityNotRunningError) as raised:
            enhance_selection(pipe, crash)
        assert "no longer running" in str(raised.value) and "dialog" not in str(raised.value)
    finally:
        pipe.close()
        audacity.restart()


STOPPED_CLI = """
import sys, time, types
from pathlib import Path

def make_enhance_file(server, preset, fallback_local=False, **settings):
    def enhance_file(source, destination):
        Path(sys.argv[1]).write_text("enhancing")
        time.sleep(60)
    return enhance_file

sys.modules["muse_fx.files"] = types.SimpleNamespace(make_enhance_file=make_enhance_file)
from muse_fx.cli import main
main(["audacity", "enhance-selection", "--timeout", "10"])
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_stop_signal_mid_run_restores_the_export_setting_and_leaves_no_files(project, tmp_path, signum):
    pipe, _, _ = project
    pipe.command(f"SetPreference: Name={WAV_ENCODING_PREF} Value=2")  # the user exports 16-bit WAV
    pipe.command(f"Select: Start={START} End={END} Track=0 TrackCount=1 Mode=Set")
    before = pipe.command("GetInfo: Type=Tracks Format=JSON")
    pipe.close()  # the CLI opens its own connection
    scratch, started = tmp_path / "tmp", tmp_path / "started"
    scratch.mkdir()
    root = str(Path(__file__).parents[1])
    env = {
        **os.environ,
        "TMPDIR": str(scratch),
        "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
    }
    cli = subprocess.Popen(
        [sys.executable, "-c", STOPPED_CLI, str(started)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and cli.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), cli.communicate(timeout=10)[1]
        cli.send_signal(signum)
        _, stderr = cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 128 + signum, stderr
    assert "interrupted" in stderr
    assert list(scratch.iterdir()) == []  # the 32-bit export and the enhanced file's folder are gone
    with contextlib.closing(AudacityPipe(timeout=10, connect_timeout=5)) as again:
        assert again.command(f"GetPreference: Name={WAV_ENCODING_PREF}") == "2"
        assert again.command("GetInfo: Type=Tracks Format=JSON") == before


STOPPED_WHILE_ADDING = """
import os, signal, sys, types
from muse_fx.integrations.audacity_pipe import AudacityPipe
import soundfile as sf

def make_enhance_file(server, preset, fallback_local=False, **settings):
    def enhance_file(source, destination):
        audio, rate = sf.read(source, dtype="float32")
        sf.write(destination, audio * 0.5, rate, subtype="FLOAT")
    return enhance_file

send = AudacityPipe._send

def send_then_stop(self, text):
    send(self, text)
    if text.startswith("Import2:"):  # Audacity is adding the track while we wait for its answer
        os.kill(os.getpid(), signal.SIGTERM)

AudacityPipe._send = send_then_stop
sys.modules["muse_fx.files"] = types.SimpleNamespace(make_enhance_file=make_enhance_file)
from muse_fx.cli import main
main(["audacity", "enhance-selection", "--timeout", "10"])
"""


def test_a_stop_signal_while_the_track_is_added_is_reported_as_it_ended(project, tmp_path):
    """SIGTERM while Audacity imports: the track is finished (named, aligned) and reported, then the run stops.
    It said "no track was added" while Audacity had added one, unnamed and at 0 s; a rerun added a duplicate."""
    pipe, _, _ = project
    pipe.command(f"Select: Start={START} End={END} Track=0 TrackCount=1 Mode=Set")
    pipe.close()  # the CLI opens its own connection
    root = str(Path(__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}

    cli = subprocess.run(
        [sys.executable, "-c", STOPPED_WHILE_ADDING], env=env, capture_output=True, text=True, timeout=120
    )

    assert cli.returncode == 128 + signal.SIGTERM, cli.stderr
    name = f"{SOURCE_NAME} (muse_fx)"
    assert f"added track {name!r}" in cli.stdout
    assert "interrupted: the tracks listed above were added" in cli.stderr
    with contextlib.closing(AudacityPipe(timeout=10, connect_timeout=5)) as again:
        tracks = parse_json(again.command("GetInfo: Type=Tracks Format=JSON"))
    assert [(t["name"], t["start"], t["end"]) for t in tracks[2:]] == [(name, START, END)]
