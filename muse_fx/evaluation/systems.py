"""The systems `muse-fx eval` can run on a degraded clip: (samples,) float at `sample_rate` → same length."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import numpy as np

from muse_fx.plugin import MuseEnhance

System = Callable[[np.ndarray, int], np.ndarray]

# name → (musecoder, steps) for MuseEnhance
OURS = {"fast": ("fast", 6), "diffusion-6": ("diffusion", 6), "diffusion-50": ("diffusion", 50)}
BUILTIN = ("input", "noisereduce", *OURS)
DEFAULT = ("input", "noisereduce", "fast", "diffusion-6")


def unprocessed(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The degraded input itself: the floor every system must beat."""
    return audio


def noisereduce_available() -> str | None:
    """None when the noisereduce baseline can run, else why not."""
    if importlib.util.find_spec("noisereduce") is None:
        return "noisereduce is not installed; `pip install noisereduce` (or the `train` extra)"
    return None


def spectral_gating(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """noisereduce's non-stationary spectral gating with its defaults: the classic denoiser baseline."""
    import noisereduce  # optional (muse-fx[train]): only this baseline needs it

    return noisereduce.reduce_noise(y=audio, sr=sample_rate).astype(np.float64)


def ours(name: str) -> tuple[str, int, float] | None:
    """(musecoder, steps, strength) for one of muse_fx's own systems, e.g. "fast" or "fast@0.5" (strength 0.5,
    to compare strengths in one table); None for any other name."""
    base, at, strength = name.partition("@")
    if base not in OURS:
        return None
    try:
        value = float(strength) if at else 1.0
    except ValueError:
        return None
    return (*OURS[base], value) if 0.0 <= value <= 1.0 else None


def build_system(name: str, model: str, device: str) -> System:
    """A runnable system by name; `model`/`device` configure muse_fx's own ones. Loading errors surface here."""
    if name == "input":
        return unprocessed
    if name == "noisereduce":
        return spectral_gating
    if settings := ours(name):
        musecoder, steps, strength = settings
        return MuseEnhance(model=model, musecoder=musecoder, steps=steps, strength=strength, device=device)
    raise ValueError(f"unknown system {name!r}; built in: {', '.join(BUILTIN)}")
