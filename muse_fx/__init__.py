"""muse_fx: make amateur music recordings sound studio-clean (Kandpal, Nieto & Jin, ICASSP 2022)."""

__version__ = "0.1.0"

from .errors import MuseFxError
from .plugin import MuseEnhance

__all__ = ["MuseEnhance", "MuseFxError", "__version__"]
