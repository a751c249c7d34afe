"""Presets: TOML files that describe a chain of MuseEnhance and pedalboard plugins (`chains.py` builds and saves
them; `files.py` finds them: bundled in `library/`, the user's own in the platformdirs config folder).

Names load on first use, so `muse-fx presets list` answers without importing torch.
"""

import importlib

_EXPORTS = {
    "load_preset": "muse_fx.presets.chains",
    "save_preset": "muse_fx.presets.chains",
    "available": "muse_fx.presets.files",
    "user_dir": "muse_fx.presets.files",
}
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'muse_fx.presets' has no attribute {name!r}")
