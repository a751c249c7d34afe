"""muse_fx: make amateur music recordings sound studio-clean (Kandpal, Nieto & Jin, ICASSP 2022)."""

import importlib

__version__ = "0.1.0"

# Loaded on first use, so `muse-fx --help` and `--version` answer without importing torch.
_EXPORTS = {
    "MuseEnhance": "muse_fx.plugin",
    "Enhancer": "muse_fx.engine.pipeline",
    "Pedalboard": "muse_fx.board",
    "MuseFxError": "muse_fx.errors",
    "load_preset": "muse_fx.presets.chains",
    "save_preset": "muse_fx.presets.chains",
}
__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'muse_fx' has no attribute {name!r}")
