"""Full-band measures of what listeners hear as damage, scored at the pair's own rate on unit-norm signals.

Magnitudes are floored 80 dB below the clean's loudest bin: with the paper's 1e-10 floor, empty bins above a band
limit (a phone recording's 4 kHz, a 16 kHz file's 8 kHz) dominate any log distance.
"""

from __future__ import annotations

import math

import numpy as np
import torch

FLOOR_DB = 80.0
WINDOW_S = 0.046  # the per-band and frame measures use ~46 ms frames (2048 samples at 44.1 kHz), hop a quarter
RESOLUTIONS_S = (0.032, 0.064, 0.128)  # the MR-STFT distance's frames: the paper's 512/1024/2048 at 16 kHz
BANDS_HZ = ((0, 4000), (4000, 8000), (8000, 16000), (16000, 22050))
HIGH_HZ = 8000.0
MUFFLED_DB = -6.0  # a clip this much darker above 8 kHz than the clean counts as muffled
MUSIC_RANGE_DB = 30.0  # music frames: the clean within this of its loudest frame
HOLE_DB = 10.0  # a music frame where the output is this much below the clean is a hole
QUIET_SHARE = 0.10  # the noise floor is the level of the quietest 10 % of frames


def _n_fft(sample_rate: int, seconds: float) -> int:
    return 2 ** round(math.log2(seconds * sample_rate))


def power(signal: np.ndarray, n_fft: int) -> torch.Tensor:
    """(bins, frames) float64 power spectrogram, Hann window, hop n_fft/4, centred."""
    x = torch.from_numpy(np.asarray(signal, dtype=np.float64))
    window = torch.hann_window(n_fft, dtype=torch.float64)
    return torch.stft(x, n_fft, n_fft // 4, window=window, center=True, return_complex=True).abs().square()


def _floored_db(clean: torch.Tensor, processed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    floor = clean.max() * 10 ** (-FLOOR_DB / 10) + 1e-30
    return 10 * torch.log10(clean.clamp_min(floor)), 10 * torch.log10(processed.clamp_min(floor))


def mr_stft(clean: np.ndarray, processed: np.ndarray, sample_rate: int) -> float:
    """Spectral convergence + log-magnitude L1 (natural log), averaged over three resolutions; lower is better."""
    total = 0.0
    for seconds in RESOLUTIONS_S:
        c, p = (power(s, _n_fft(sample_rate, seconds)).sqrt() for s in (clean, processed))
        floor = c.max() * 10 ** (-FLOOR_DB / 20) + 1e-15
        convergence = torch.linalg.norm(c - p) / torch.linalg.norm(c).clamp_min(1e-15)
        total += float(convergence + (c.clamp_min(floor).log() - p.clamp_min(floor).log()).abs().mean())
    return total / len(RESOLUTIONS_S)


def band_lsd(clean: np.ndarray, processed: np.ndarray, sample_rate: int, band: tuple[float, float]) -> float:
    """Log-spectral distance (dB) in one band: per frame the RMS dB difference over its bins, then the mean.
    NaN when the band lies above the pair's Nyquist."""
    n_fft = _n_fft(sample_rate, WINDOW_S)
    freqs = np.fft.rfftfreq(n_fft, 1 / sample_rate)
    rows = torch.from_numpy((freqs >= band[0]) & (freqs < min(band[1], sample_rate / 2)))
    if rows.sum() == 0:
        return float("nan")
    c, p = _floored_db(power(clean, n_fft), power(processed, n_fft))
    return float((c[rows] - p[rows]).square().mean(dim=0).sqrt().mean())


def high_share_db(signal: np.ndarray, sample_rate: int) -> float:
    """Energy above 8 kHz as a share of all energy, in dB."""
    spectrum = np.abs(np.fft.rfft(signal)) ** 2
    freqs = np.fft.rfftfreq(len(signal), 1 / sample_rate)
    return float(10 * np.log10(spectrum[freqs >= HIGH_HZ].sum() / max(spectrum.sum(), 1e-30) + 1e-30))


def muffling(clean: np.ndarray, processed: np.ndarray, sample_rate: int) -> float:
    """dB of the output's share of energy above 8 kHz minus the clean's: negative is darker. NaN below 16 kHz."""
    if sample_rate / 2 <= HIGH_HZ:
        return float("nan")
    return high_share_db(processed, sample_rate) - high_share_db(clean, sample_rate)


def muffled(clean: np.ndarray, processed: np.ndarray, sample_rate: int) -> float:
    """1.0 when the output is more than 6 dB darker above 8 kHz than the clean (summed: the count of clips)."""
    value = muffling(clean, processed, sample_rate)
    return float("nan") if math.isnan(value) else float(value < MUFFLED_DB)


def _frame_db(signal: np.ndarray, sample_rate: int) -> torch.Tensor:
    return 10 * torch.log10(power(signal, _n_fft(sample_rate, WINDOW_S)).sum(dim=0) + 1e-30)


def holes(clean: np.ndarray, processed: np.ndarray, sample_rate: int) -> float:
    """% of music frames (the clean within 30 dB of its loudest frame) where the output is ≥ 10 dB below it:
    gated decays and dropped notes."""
    c, p = _frame_db(clean, sample_rate), _frame_db(processed, sample_rate)
    music = c >= c.max() - MUSIC_RANGE_DB
    return float(100 * ((c - p)[music] >= HOLE_DB).double().mean())


def noise_floor(clean: np.ndarray, processed: np.ndarray, sample_rate: int) -> float:
    """Level (dB re the unit-norm signal's mean frame power) of the output's quietest 10 % of frames."""
    frames = _frame_db(processed, sample_rate)
    quiet = frames.sort().values[: max(1, int(QUIET_SHARE * len(frames)))]
    mean_power = 10 ** (frames / 10)
    return float(10 * torch.log10((10 ** (quiet / 10)).mean() / mean_power.mean()))
