"""ViSQOL v3 audio mode (Chinen et al. 2020) through the pure-Python `visqol-python` port; it runs offline."""

from __future__ import annotations

import logging
from functools import lru_cache
from math import gcd

import numpy as np

VISQOL_RATE = 48000  # audio mode's SVR was fitted on 48 kHz spectrograms


def visqol_available() -> str | None:
    """None when ViSQOL can run, else why not (for a skip or warning message)."""
    try:
        import visqol  # noqa: F401
    except ImportError as error:
        return f"visqol-python is not installed ({error}); `pip install visqol-python`"
    return None


@lru_cache(maxsize=1)
def _api():
    from visqol import VisqolApi

    # The port warns about every 16 kHz-vs-48 kHz or length mismatch it sees; we resample and trim ourselves.
    logging.getLogger("visqol").setLevel(logging.ERROR)
    api = VisqolApi()
    api.create(mode="audio")
    return api


def visqol(clean: np.ndarray, processed: np.ndarray, sample_rate: int) -> float:
    """MOS-LQO (1…5, higher is better) of (samples,) signals, after resampling both to 48 kHz.

    scipy's polyphase resampler (visqol-python depends on scipy anyway) reproduces the reference paper-val
    scores to two decimals; torchaudio's sinc resampler lands ~0.01 higher.
    """
    from scipy.signal import resample_poly

    g = gcd(VISQOL_RATE, sample_rate)
    up = [
        resample_poly(np.asarray(s, dtype=np.float64), VISQOL_RATE // g, sample_rate // g) for s in (clean, processed)
    ]
    return float(_api().measure_from_arrays(up[0], up[1], VISQOL_RATE).moslqo)
