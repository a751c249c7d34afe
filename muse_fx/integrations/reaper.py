"""Install the muse_fx Reaper actions: copy the Lua scripts and register them in ``reaper-kb.ini``.

Reaper reads its action list from ``<resource>/reaper-kb.ini`` at start-up; one ``SCR`` line per script,
``SCR 4 0 RS<40 hex> "Custom: <name>" "<path relative to Scripts/>"``, is what its own "Load ReaScript"
writes. The file also holds the user's shortcuts and custom actions, so it is only ever appended to,
through a temporary file and a rename, and a script that is already registered (by an earlier install
or by hand, under any command id) is left alone: shortcuts and toolbars refer to that id.

Reaper started from a desktop launcher rarely sees the PATH of the shell where muse-fx was installed, so
the installer also stores this installation's ``muse-fx`` in the actions' ExtState setting
(``reaper-extstate.ini``, section ``muse_fx``, key ``executable``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from muse_fx.errors import MuseFxError
from muse_fx.io.atomic import atomic_path

SCRIPTS = ("muse_fx_common.lua", "muse_fx_enhance_items.lua", "muse_fx_enhance_time_selection.lua")
ACTIONS = {
    "muse_fx_enhance_items.lua": "muse_fx: Enhance selected items",
    "muse_fx_enhance_time_selection.lua": "muse_fx: Enhance time selection on selected tracks",
}
FOLDER = "muse_fx"  # under <resource>/Scripts/
EXTSTATE_SECTION = "muse_fx"

_SCR = re.compile(r'^SCR\s+\S+\s+(\S+)\s+(\S+)\s+("[^"]*"|\S+)\s+(.+?)\s*$')


class ReaperInstallError(MuseFxError, RuntimeError):
    """Reaper's resource folder or muse_fx's own scripts could not be found or written."""


def default_resource_dir(
    platform: str = sys.platform, env: Mapping[str, str] | None = None, home: Path | None = None
) -> Path:
    """Where Reaper keeps its settings and Scripts folder (a portable install: pass --resource-dir)."""
    if env is None:
        env = os.environ
    home = Path.home() if home is None else home
    if platform.startswith("win"):
        return Path(env.get("APPDATA", home / "AppData" / "Roaming")) / "REAPER"
    if platform == "darwin":
        return home / "Library" / "Application Support" / "REAPER"
    default = home / ".config" / "REAPER"
    # Not sure every Reaper build honours XDG_CONFIG_HOME: use it only where a REAPER folder exists.
    xdg = Path(env["XDG_CONFIG_HOME"]) / "REAPER" if env.get("XDG_CONFIG_HOME") else default
    return xdg if xdg.is_dir() else default


def lua_sources() -> Path:
    """The folder holding the .lua files (package data; the repo's `integrations/reaper/*.lua` link here)."""
    folder = Path(__file__).resolve().parent / "reaper_scripts"
    if not all((folder / name).is_file() for name in SCRIPTS):
        raise ReaperInstallError(f"muse_fx's Reaper scripts are missing from {folder}; reinstall muse-fx")
    return folder


def command_id(relative_path: str) -> str:
    """A stable Reaper command id (`RS` + 40 hex digits, the form Reaper uses) for a script path."""
    return "RS" + hashlib.sha1(relative_path.encode("utf-8")).hexdigest()


def find_executable() -> Path | None:
    """This installation's `muse-fx`: beside the running Python first (same environment), then on PATH."""
    name = "muse-fx.exe" if sys.platform.startswith("win") else "muse-fx"
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return beside
    found = shutil.which("muse-fx")
    return Path(found) if found else None


def install_reaper(resource_dir: Path | None = None, executable: Path | None = None) -> list[Path]:
    """Copy the scripts to `<resource>/Scripts/muse_fx/` and register the actions; returns the files written.

    `executable` (default: this installation's muse-fx) is stored as the actions' setting unless one that
    still exists is configured already. Safe to run again: nothing is duplicated.
    """
    resource = Path(resource_dir) if resource_dir is not None else default_resource_dir()
    if not resource.is_dir():
        raise ReaperInstallError(f"Reaper not found at {resource}; start Reaper once or pass --resource-dir")
    source = lua_sources()
    target = resource / "Scripts" / FOLDER
    written = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in SCRIPTS:
            shutil.copyfile(source / name, target / name)
            written.append(target / name)
        kb = resource / "reaper-kb.ini"
        if register_actions(kb):
            written.append(kb)
        executable = executable or find_executable()
        extstate = resource / "reaper-extstate.ini"
        if executable and remember_executable(extstate, executable):
            written.append(extstate)
    except OSError as error:
        raise ReaperInstallError(f"cannot install into {resource}: {error}") from error
    return written


def register_actions(kb: Path) -> bool:
    """Append an SCR line for each action not yet registered in the main section; True if the file changed."""
    text = _read(kb)
    registered = {_normal(match[4]) for match in map(_SCR.match, text.splitlines()) if match and match[1] == "0"}
    missing = [name for name in ACTIONS if _normal(f"{FOLDER}/{name}") not in registered]
    if not missing:
        return False
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = [f'SCR 4 0 {command_id(f"{FOLDER}/{n}")} "Custom: {ACTIONS[n]}" "{FOLDER}/{n}"' for n in missing]
    if text and not text.endswith(("\n", "\r")):
        text += newline
    _write_atomically(kb, text + newline.join(lines) + newline)
    return True


def remember_executable(extstate: Path, executable: Path) -> bool:
    """Set `[muse_fx] executable=` in reaper-extstate.ini unless an existing file is configured there."""
    text = _read(extstate)
    lines = text.splitlines(keepends=True)
    section = next((i for i, line in enumerate(lines) if line.strip() == f"[{EXTSTATE_SECTION}]"), None)
    newline = "\r\n" if "\r\n" in text else "\n"
    entry = f"executable={executable}{newline}"
    if section is None:
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += newline
        lines += [f"[{EXTSTATE_SECTION}]{newline}", entry]
    else:
        end = next((i for i in range(section + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
        key = next((i for i in range(section + 1, end) if lines[i].split("=", 1)[0].strip() == "executable"), None)
        if key is None:
            lines.insert(section + 1, entry)
        else:
            configured = lines[key].split("=", 1)[1].strip()
            if configured and Path(configured).is_file():
                return False
            lines[key] = entry
    _write_atomically(extstate, "".join(lines))
    return True


def _normal(path: str) -> str:
    """An SCR path as Reaper may have written it (quoted or not, \\ or /) in one comparable form."""
    return path.strip('"').replace("\\", "/").lower()


def _read(path: Path) -> str:
    # surrogateescape: bytes that are not UTF-8 (old files, other tools) go back out unchanged.
    return path.read_bytes().decode("utf-8", "surrogateescape") if path.exists() else ""


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and a rename: a crash leaves the old file intact, its mode kept."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(text.encode("utf-8", "surrogateescape"))
