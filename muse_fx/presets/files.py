"""Where presets live: the bundled folder and the user's own. Light on imports, so `muse-fx presets list` is
instant; building a chain from a file is `muse_fx.presets`' job."""

from __future__ import annotations

from pathlib import Path

import platformdirs

BUNDLED_DIR = Path(__file__).parent / "library"


def user_dir() -> Path:
    return Path(platformdirs.user_config_dir("muse-fx")) / "presets"


def available() -> dict[str, Path]:
    """Preset name → file; the user's presets win over bundled ones of the same name."""
    found = {}
    for folder in (BUNDLED_DIR, user_dir()):
        if folder.is_dir():
            found.update({path.stem: path for path in sorted(folder.glob("*.toml"))})
    return found
