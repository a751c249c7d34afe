"""The Audacity panel's settings: what the user last chose, kept in the platformdirs config folder."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path

import platformdirs
import tomli_w

from muse_fx.io.atomic import atomic_path
from muse_fx.presets.files import available
from muse_fx.settings import LEVELS, MIX, STRENGTH

FILE_NAME = "audacity-panel.toml"
URL_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class PanelSettings:
    preset: str = ""  # empty: muse-fx's default
    strength: float = STRENGTH.default
    mix: float = MIX.default
    server: str = ""  # empty: enhance on this computer

    def levels(self) -> dict[str, float]:
        """The sliders' values by setting name (each of LEVELS), as MuseEnhance takes them."""
        return {setting.name: getattr(self, setting.name) for setting in LEVELS}

    def problem(self) -> str | None:
        """What is wrong with these settings, in the words the status line shows; None when they are usable."""
        for setting in LEVELS:
            try:
                setting.check(getattr(self, setting.name))
            except ValueError as error:
                return f"{str(error)[0].upper()}{str(error)[1:]}."
        if self.server and not self.server.startswith(URL_SCHEMES):
            return (
                f"The server must be a URL like http://studio-pc:8765, not {self.server!r}; leave it empty "
                "to enhance on this computer."
            )
        if self.preset and self.preset not in available():
            return f"There is no preset {self.preset!r} any more; choose another one."
        return None


def settings_path() -> Path:
    return platformdirs.user_config_path("muse-fx") / FILE_NAME


def load_settings(path: Path) -> PanelSettings:
    """The saved settings; a missing or damaged file gives the defaults, an unusable value its default."""
    try:
        saved = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return PanelSettings()
    settings = PanelSettings()
    for name, default in dataclasses.asdict(settings).items():
        value = saved.get(name)
        if isinstance(default, float) and type(value) is int:
            value = float(value)
        if type(value) is type(default):
            trial = dataclasses.replace(settings, **{name: value})  # type: ignore[arg-type]  # same type as the default
            settings = trial if trial.problem() is None else settings
    return settings


def save_settings(settings: PanelSettings, path: Path) -> None:
    """Write the settings (temp file, then rename: a crash never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(tomli_w.dumps(dataclasses.asdict(settings)), encoding="utf-8")


def preset_levels(name: str) -> dict[str, float]:
    """The sliders' values (LEVELS, by name) that preset `name` gives its MuseEnhance, read without loading a
    model: the sliders start from them. The defaults for no preset, or one that cannot be read (using it reports
    why)."""
    path = available().get(name)
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8")).get("plugin", []) if path else []
        muse: dict = next((entry for entry in entries if entry.get("type") == "MuseEnhance"), {})
        return {setting.name: setting.check(muse.get(setting.name, setting.default)) for setting in LEVELS}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError, TypeError, ValueError):
        return {setting.name: setting.default for setting in LEVELS}
