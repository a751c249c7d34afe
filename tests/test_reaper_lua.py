"""The Reaper integration: the Lua actions under lua5.4 against a fake `reaper` API, and the installer."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from muse_fx.cli.integrations import integrations
from muse_fx.integrations import reaper as installer
from muse_fx.integrations.reaper import ReaperInstallError, default_resource_dir, install_reaper

ROOT = Path(__file__).resolve().parents[1]
LUA = shutil.which("lua5.4")
ITEMS_LINE = (
    f"SCR 4 0 {installer.command_id('muse_fx/muse_fx_enhance_items.lua')} "
    '"Custom: muse_fx: Enhance selected items" "muse_fx/muse_fx_enhance_items.lua"'
)


@pytest.mark.skipif(LUA is None, reason="lua5.4 is not installed (Debian: apt-get install lua5.4)")
def test_lua_scenarios_pass():
    run = subprocess.run(
        [LUA, str(ROOT / "tests" / "reaper" / "run_tests.lua")], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert " 0 failed" in run.stdout


@pytest.fixture
def resource(tmp_path):
    folder = tmp_path / "REAPER"
    folder.mkdir()
    return folder


def _kb(resource: Path) -> list[str]:
    return (resource / "reaper-kb.ini").read_text().splitlines()


def test_install_copies_scripts_and_registers_both_actions(resource, tmp_path):
    written = install_reaper(resource, executable=tmp_path / "muse-fx")
    scripts = resource / "Scripts" / "muse_fx"
    for name in installer.SCRIPTS:
        assert (scripts / name).read_bytes() == (ROOT / "integrations" / "reaper" / name).read_bytes()
        assert scripts / name in written
    assert resource / "reaper-kb.ini" in written
    lines = _kb(resource)
    assert ITEMS_LINE in lines
    assert any('"muse_fx/muse_fx_enhance_time_selection.lua"' in line for line in lines)
    assert len(lines) == 2


def test_second_install_adds_nothing_and_keeps_user_lines(resource, tmp_path):
    user = [
        "KEY 1 65 _RSabc 0\t\t # Main : A : Custom: other.lua",
        'SCR 4 0 RSabc "Custom: other.lua" "Other/other.lua"',
        'ACT 0 0 "f00" "Custom: mine" 40001 40002',
    ]
    (resource / "reaper-kb.ini").write_text("\r\n".join(user))  # CRLF, no final newline
    install_reaper(resource, executable=tmp_path / "muse-fx")
    first = (resource / "reaper-kb.ini").read_bytes()
    written = install_reaper(resource, executable=tmp_path / "muse-fx")
    assert (resource / "reaper-kb.ini").read_bytes() == first
    assert resource / "reaper-kb.ini" not in written
    lines = first.decode().split("\r\n")
    assert lines[:3] == user
    assert lines.count(ITEMS_LINE) == 1
    assert len([line for line in lines if line.startswith("SCR")]) == 3


def test_action_registered_by_hand_is_left_alone(resource, tmp_path):
    by_hand = 'SCR 4 0 RS1234 "Custom: muse_fx_enhance_items.lua" muse_fx\\muse_fx_enhance_items.lua'
    (resource / "reaper-kb.ini").write_text(by_hand + "\n")
    install_reaper(resource, executable=tmp_path / "muse-fx")
    lines = _kb(resource)
    assert lines[0] == by_hand
    assert sum("muse_fx_enhance_items.lua" in line for line in lines) == 1
    assert len(lines) == 2  # only the time-selection action was added


def test_bytes_that_are_not_utf8_survive(resource, tmp_path):
    odd = b'SCR 4 0 RSabc "Custom: caf\xe9.lua" "caf\xe9.lua"\n'
    (resource / "reaper-kb.ini").write_bytes(odd)
    install_reaper(resource, executable=tmp_path / "muse-fx")
    assert (resource / "reaper-kb.ini").read_bytes().startswith(odd)


def test_missing_resource_dir_is_a_clear_error(tmp_path):
    with pytest.raises(ReaperInstallError, match="Reaper not found at .*start Reaper once or pass --resource-dir"):
        install_reaper(tmp_path / "nowhere")


def test_executable_is_remembered_but_never_replaces_a_working_one(resource, tmp_path):
    mine = tmp_path / "my-muse-fx"
    mine.write_text("")
    extstate = resource / "reaper-extstate.ini"
    extstate.write_text("[other]\nkey=1\n")
    install_reaper(resource, executable=tmp_path / "venv" / "muse-fx")
    assert extstate.read_text() == f"[other]\nkey=1\n[muse_fx]\nexecutable={tmp_path / 'venv' / 'muse-fx'}\n"
    extstate.write_text(f"[muse_fx]\nserver=http://x\nexecutable={mine}\n[other]\nkey=1\n")
    install_reaper(resource, executable=tmp_path / "venv" / "muse-fx")
    assert f"executable={mine}\n" in extstate.read_text()


def test_default_resource_dirs(tmp_path):
    assert default_resource_dir("win32", {"APPDATA": "C:/Users/a/AppData/Roaming"}, tmp_path) == Path(
        "C:/Users/a/AppData/Roaming/REAPER"
    )
    assert default_resource_dir("darwin", {}, tmp_path) == tmp_path / "Library" / "Application Support" / "REAPER"
    assert default_resource_dir("linux", {}, tmp_path) == tmp_path / ".config" / "REAPER"


def test_cli_install_prints_what_it_wrote(resource, monkeypatch):
    monkeypatch.setattr(installer, "find_executable", lambda: None)
    result = CliRunner().invoke(integrations, ["install", "reaper", "--resource-dir", str(resource)])
    assert result.exit_code == 0, result.output
    assert str(resource / "Scripts" / "muse_fx" / "muse_fx_enhance_items.lua") in result.output
    assert "muse_fx: Enhance selected items" in result.output
