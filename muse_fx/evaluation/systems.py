"""The systems `muse-fx eval` can run on a degraded clip: (samples,) float at `sample_rate` → same length."""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable

import numpy as np

from muse_fx.engine.weights import load_model
from muse_fx.plugin import MuseEnhance
from muse_fx.settings import STRENGTH

System = Callable[[np.ndarray, int], np.ndarray]

# name → (musecoder, steps) for MuseEnhance
OURS = {"fast": ("fast", 6), "diffusion-6": ("diffusion", 6), "diffusion-50": ("diffusion", 50)}
BUILTIN = ("input", "noisereduce", *OURS)
DEFAULT = ("input", "noisereduce", "fast", "diffusion-6")
VARIANT_SYNTAX = (  # how `ours` reads a name, as `muse-fx eval --help` says it
    "'@S' sets muse_fx's strength, e.g. fast@0.5, and ':MODEL' runs another model than --model, e.g. fast:cpu-small"
)


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


def ours(name: str) -> tuple[str, int, float, str | None] | None:
    """(musecoder, steps, strength, model) for one of muse_fx's own systems: "fast", "fast@0.5" (strength 0.5, to
    compare strengths in one table), "fast:cpu-small" or "fast@0.8:runs/new.safetensors" (another model than
    --model's, to compare models in one table; model None means --model's). None for any other name."""
    setting, colon, model = name.partition(":")
    base, at, strength = setting.partition("@")
    if base not in OURS or (colon and not model):
        return None
    try:
        value = STRENGTH.check(strength) if at else STRENGTH.default
    except ValueError:
        return None
    return (*OURS[base], value, model or None)


def models_of(names: list[str], model: str) -> list[str]:
    """The models muse_fx's systems among `names` run, each once; `model` is --model's."""
    return list(dict.fromkeys(settings[3] or model for name in names if (settings := ours(name))))


def internal_boundaries(model: str) -> list[float]:
    """Hz where a model's internal bands meet: where the mel filters either side of its generators' split cross
    (about 7.92 kHz for full-band 1.0, whose halves split at band 128); none for a single generator."""
    config = load_model(model).config
    split, mel = config.mel2mel.split_band, config.mel
    if not split:
        return []

    def to_mel(hz: float) -> float:  # torchaudio's default (HTK) mel scale, which LogMel uses
        return 2595 * math.log10(1 + hz / 700)

    low, high = to_mel(mel.f_min), to_mel(mel.f_max)
    # n_mels + 2 points equally spaced in mel: band b peaks at point b + 1, so bands split-1 and split cross at
    # point split + 0.5.
    crossing = low + (split + 0.5) * (high - low) / (mel.n_mels + 1)
    return [700 * (10 ** (crossing / 2595) - 1)]


def build_system(name: str, model: str, device: str) -> System:
    """A runnable system by name; `model`/`device` configure muse_fx's own ones. Loading errors surface here."""
    if name == "input":
        return unprocessed
    if name == "noisereduce":
        return spectral_gating
    if settings := ours(name):
        musecoder, steps, strength, own_model = settings
        return MuseEnhance(model=own_model or model, musecoder=musecoder, steps=steps, strength=strength, device=device)
    raise ValueError(f"unknown system {name!r}; built in: {', '.join(BUILTIN)}")
