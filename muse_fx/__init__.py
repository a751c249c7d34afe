"""muse_fx: make amateur music recordings sound studio-clean (Kandpal, Nieto & Jin, ICASSP 2022)."""

__version__ = "0.1.0"

from .board import Pedalboard
from .errors import MuseFxError
from .plugin import MuseEnhance
from .presets import load_preset, save_preset

__all__ = ["MuseEnhance", "MuseFxError", "Pedalboard", "load_preset", "save_preset", "__version__"]
