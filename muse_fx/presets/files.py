"""Where presets live: the bundled folder and the user's own. Light on imports, so `muse-fx presets list` is
instant; building a chain from a file is `muse_fx.presets`' job."""

from __future__ import annotations

import itertools
from pathlib import Path

import platformdirs

BUNDLED_DIR = Path(__file__).parent / "library"


def user_dir() -> Path:
    return Path(platformdirs.user_config_dir("muse-fx")) / "presets"


def unused_name(name: str) -> str:
    """`name`, or `name-2`, `name-3`… where a bundled or saved preset has it: a preset saved under it would
    silently shadow the bundled one, or overwrite the user's own."""
    taken = available()
    return next(c for c in itertools.chain([name], (f"{name}-{n}" for n in itertools.count(2))) if c not in taken)


def available() -> dict[str, Path]:
    """Preset name → file; the user's presets win over bundled ones of the same name."""
    found = {}
    for folder in (BUNDLED_DIR, user_dir()):
        if folder.is_dir():
            found.update({path.stem: path for path in sorted(folder.glob("*.toml"))})
    return found
