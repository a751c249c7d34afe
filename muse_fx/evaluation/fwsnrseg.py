"""Frequency-weighted segmental SNR (Hu & Loizou 2008), ported from pysepm's `fwSNRseg` — the paper's scripts/eval.py
scored with it, and pysepm is not on PyPI.

pysepm → here: `cent_freq`/`bandwidth` → CENTRES_HZ/WIDTHS_HZ, `crit_filter` → `critical_band_filters`,
`W_freq` (clean band energy ** gamma) → `weights`. pysepm's `W` table is defined but never used, so neither is it here.
"""

from __future__ import annotations

import numpy as np

# The 25 critical bands of Loizou's MATLAB code (Hz): 70 Hz wide up to 540 Hz, then ~10% wider per band.
CENTRES_HZ = np.array(
    [
        50.0,
        120.0,
        190.0,
        260.0,
        330.0,
        400.0,
        470.0,
        540.0,
        617.372,
        703.378,
        798.717,
        904.128,
        1020.38,
        1148.30,
        1288.72,
        1442.54,
        1610.70,
        1794.16,
        1993.93,
        2211.08,
        2446.71,
        2701.97,
        2978.04,
        3276.17,
        3597.63,
    ]
)
WIDTHS_HZ = np.array(
    [
        70.0,
        70.0,
        70.0,
        70.0,
        70.0,
        70.0,
        70.0,
        77.3724,
        86.0056,
        95.3398,
        105.411,
        116.256,
        127.914,
        140.423,
        153.823,
        168.154,
        183.457,
        199.776,
        217.153,
        235.631,
        255.255,
        276.072,
        298.126,
        321.465,
        346.136,
    ]
)
GAMMA = 0.2  # band weight = clean band energy ** GAMMA
SNR_RANGE_DB = (-10.0, 35.0)
EPS = np.finfo(np.float64).eps


def critical_band_filters(sample_rate: int, half_fft: int) -> np.ndarray:
    """(25, half_fft) Gaussian-shaped magnitude responses, cut below their −30 dB point as in pysepm."""
    bins = np.arange(half_fft)
    centres = np.floor(CENTRES_HZ / (sample_rate / 2) * half_fft)[:, None]
    widths = (WIDTHS_HZ / (sample_rate / 2) * half_fft)[:, None]
    gains = np.log(WIDTHS_HZ[0]) - np.log(WIDTHS_HZ)[:, None]
    filters = np.exp(-11 * ((bins - centres) / widths) ** 2 + gains)
    return filters * (filters > np.exp(-30.0 / (2.0 * 2.303)))


def _frame_spectra(signal: np.ndarray, length: int, hop: int, n_fft: int) -> np.ndarray:
    """(n_fft/2, frames) magnitudes without the Nyquist bin, each frame scaled to sum 1 (so level does not count)."""
    window = 0.5 * (1 - np.cos(2 * np.pi * np.arange(1, length + 1) / (length + 1)))
    frames = np.lib.stride_tricks.sliding_window_view(signal, length)[::hop] * window
    spectra = np.abs(np.fft.rfft(frames, n=n_fft, axis=1)).T[:-1]
    return spectra / spectra.sum(axis=0)


def fwsnrseg(
    clean: np.ndarray, processed: np.ndarray, sample_rate: int, frame_seconds: float = 0.03, overlap: float = 0.75
) -> float:
    """fwSNRseg in dB (higher is better), clamped per frame to −10…35 dB. Inputs: (samples,), same length."""
    if clean.shape != processed.shape or clean.ndim != 1:
        raise ValueError(f"fwSNRseg needs two 1-D signals of equal length, got {clean.shape} and {processed.shape}")
    length = round(frame_seconds * sample_rate)
    hop = int(np.floor((1 - overlap) * frame_seconds * sample_rate))
    n_fft = int(2 ** np.ceil(np.log2(2 * length)))
    # pysepm's frame count drops the last partial frame *and* one more hop's worth of samples.
    usable = int(len(clean) / hop - length / hop) * hop + length - hop
    if usable < length:
        raise ValueError(f"fwSNRseg needs at least {2 * length} samples at {sample_rate} Hz, got {len(clean)}")
    spectra = [_frame_spectra(s.astype(np.float64)[:usable] + EPS, length, hop, n_fft) for s in (clean, processed)]
    filters = critical_band_filters(sample_rate, n_fft // 2)
    clean_energy, processed_energy = (filters @ s for s in spectra)
    error = np.maximum((clean_energy - processed_energy) ** 2, EPS)
    weights = clean_energy**GAMMA
    snr = 10 * np.log10(clean_energy**2 / error)
    per_frame = np.sum(weights * snr, axis=0) / np.sum(weights, axis=0)
    return float(np.mean(np.clip(per_frame, *SNR_RANGE_DB)))
