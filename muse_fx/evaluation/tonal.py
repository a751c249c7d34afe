"""Tonal balance: the long-term spectrum of an output minus the clean's, in 1/6-octave bands from 50 Hz to 20 kHz.

A listener hears a system's colouring as a lasting tilt, dip or step in this curve, and a step where a model's
internal bands meet (the full-band model's two generators cross near 8 kHz) as a line in every spectrogram. Signals
are compared at their own levels, so a gain change shows as an offset of the whole curve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.signal import welch

LOW_HZ, HIGH_HZ = 50.0, 20000.0
BANDS_PER_OCTAVE = 6
MIN_SHARE = 0.5  # a boundary replaces the grid edges nearer than half a band, so no sliver band is left beside it
BIN_HZ = 3.0  # the long-term spectrum's resolution: the 50–56 Hz band still spans two bins
FLOOR_DB = 80.0  # band levels are floored this far below the clean's loudest band, as the full-band measures are
PRESENCE_HZ = 1000.0  # the deviation figure covers the bands from here up, where colouring is heard most


def band_edges(boundaries_hz: Sequence[float] = ()) -> np.ndarray:
    """(bands + 1,) Hz: a 1/6-octave grid anchored at 1 kHz, with each boundary inside 50 Hz–20 kHz made an edge."""
    steps = math.ceil(BANDS_PER_OCTAVE * math.log2(HIGH_HZ / PRESENCE_HZ))
    grid = PRESENCE_HZ * 2.0 ** (np.arange(-steps, steps + 1) / BANDS_PER_OCTAVE)
    grid = np.concatenate([[LOW_HZ], grid[(grid > LOW_HZ) & (grid < HIGH_HZ)], [HIGH_HZ]])
    inside = [float(b) for b in boundaries_hz if LOW_HZ < b < HIGH_HZ]
    kept = [
        e
        for i, e in enumerate(grid)
        if i in (0, len(grid) - 1) or all(abs(math.log2(e / b)) >= MIN_SHARE / BANDS_PER_OCTAVE for b in inside)
    ]
    return np.array(sorted(set(kept) | set(inside)))


def band_levels(signal: np.ndarray, sample_rate: int, edges: np.ndarray) -> np.ndarray:
    """(bands,) mean power per bin of each band in the long-term (Welch) spectrum of a (samples,) signal, not in
    dB; NaN for bands reaching above the Nyquist frequency."""
    n_fft = 2 ** math.ceil(math.log2(sample_rate / BIN_HZ))
    freqs, spectrum = welch(signal, sample_rate, nperseg=min(n_fft, len(signal)), nfft=n_fft, detrend=False)
    levels = np.full(len(edges) - 1, np.nan)
    for band, (low, high) in enumerate(zip(edges[:-1], edges[1:])):
        rows = (freqs >= low) & (freqs < high)
        if high <= sample_rate / 2 and rows.any():
            levels[band] = spectrum[rows].mean()
    return levels


def balance(clean: np.ndarray, processed: np.ndarray, sample_rate: int, edges: np.ndarray) -> np.ndarray:
    """(bands,) dB of the processed's long-term spectrum minus the clean's, level included, for (samples,) signals
    of equal length."""
    reference, output = (band_levels(s, sample_rate, edges) for s in (clean, processed))
    floor = max(np.nanmax(reference, initial=0.0) * 10 ** (-FLOOR_DB / 10), np.finfo(np.float64).tiny)
    return 10 * np.log10(np.maximum(output, floor) / np.maximum(reference, floor))


def colouring(clean: np.ndarray, processed: np.ndarray, sample_rate: int) -> float:
    """dB: the mean |balance| from 1 kHz up of one (samples,) pair, its own deviation. The summary's deviation is
    that of the mean curve over clips, where clips coloured in opposite directions cancel: on the development set
    the inputs' bright hiss and band-limited darkness leave a mean curve 1.4 dB off, each input 9.6 dB on average."""
    edges = band_edges()
    return _deviation(balance(clean, processed, sample_rate, edges), edges)


def mean_balance(curves: Sequence[np.ndarray]) -> np.ndarray:
    """(bands,) mean over clips of their balance curves, each band over the clips that reach it (NaN for none)."""
    stacked = np.array(curves)
    counted = np.isfinite(stacked)
    totals = np.where(counted, stacked, 0.0).sum(axis=0)
    return np.divide(totals, counted.sum(axis=0), out=np.full(stacked.shape[1], np.nan), where=counted.any(axis=0))


@dataclass(frozen=True)
class BalanceFigures:
    """What a balance curve comes to, in dB: `deviation` the mean |curve| above 1 kHz; `largest_step` the largest
    change between neighbouring bands, at `largest_step_hz` (the edge between them); `boundary_steps` the change
    (band above minus band below) across each internal boundary, by its Hz."""

    deviation: float
    largest_step: float
    largest_step_hz: float
    boundary_steps: dict[float, float]


def figures(curve: np.ndarray, edges: np.ndarray, boundaries_hz: Sequence[float]) -> BalanceFigures:
    """The figures of one (bands,) balance curve on `edges` (from `band_edges(boundaries_hz)`)."""
    steps = np.diff(curve)
    measured = np.flatnonzero(np.isfinite(steps))
    largest = measured[np.argmax(np.abs(steps[measured]))] if len(measured) else None
    return BalanceFigures(
        deviation=_deviation(curve, edges),
        largest_step=math.nan if largest is None else float(steps[largest]),
        largest_step_hz=math.nan if largest is None else float(edges[largest + 1]),
        boundary_steps={b: _step_at(steps, edges, b) for b in boundaries_hz},
    )


def _deviation(curve: np.ndarray, edges: np.ndarray) -> float:
    """The mean |curve| over the measured bands from 1 kHz up; NaN when none is measured."""
    presence = curve[(edges[:-1] >= PRESENCE_HZ) & np.isfinite(curve)]
    return float(np.abs(presence).mean()) if len(presence) else math.nan


def _step_at(steps: np.ndarray, edges: np.ndarray, boundary_hz: float) -> float:
    """The change across the edge at `boundary_hz`; NaN when it is no inner edge or a side is unmeasured."""
    inner = np.flatnonzero(edges[1:-1] == boundary_hz)
    return float(steps[inner[0]]) if len(inner) else math.nan
