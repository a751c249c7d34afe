"""The paper's two spectrogram distances (scripts/eval.py), on torch.stft with torchaudio.Spectrogram's defaults
(periodic Hann, centred, reflect padding) so the numbers compare with theirs."""

from __future__ import annotations

import numpy as np
import torch

FLOOR = 1e-10  # added before every log, as in the paper
RESOLUTIONS = ((512, 128), (1024, 256), (2048, 512))  # (n_fft, hop) of the multi-resolution distance


def magnitude(signal: np.ndarray, n_fft: int, hop: int) -> torch.Tensor:
    """(n_fft/2+1, frames) STFT magnitude of a (samples,) signal.

    float32 through torch.stft on purpose, as in the paper: with the 1e-10 floor, the log-magnitude term of
    near-silent bins sees the FFT's float32 round-off (~1e-7 of the peak), so clean synthetic tones score
    differently in float64 — or even with numpy's float32 FFT. Real recordings' noise floors hide the difference.
    """
    x = torch.from_numpy(np.asarray(signal, dtype=np.float32))
    window = torch.hann_window(n_fft)
    return torch.stft(x, n_fft, hop, window=window, center=True, pad_mode="reflect", return_complex=True).abs()


def spectrogram_l1(clean: np.ndarray, processed: np.ndarray, n_fft: int = 1024, hop: int = 256) -> float:
    """Mean |log power spectrogram difference| (natural log; lower is better)."""
    logs = [(magnitude(s, n_fft, hop) ** 2 + FLOOR).log() for s in (clean, processed)]
    return float((logs[0] - logs[1]).abs().mean())


def multi_resolution_stft(clean: np.ndarray, processed: np.ndarray) -> float:
    """Spectral convergence + log-magnitude L1, averaged over three resolutions (lower is better).

    As in the paper, spectral convergence is the *squared* norm ratio ‖|C|−|P|‖² / ‖|C|‖², not the usual
    un-squared one, and magnitudes carry the 1e-10 floor in both terms.
    """
    total = 0.0
    for n_fft, hop in RESOLUTIONS:
        c, p = (magnitude(s, n_fft, hop) + FLOOR for s in (clean, processed))
        convergence = (c - p).square().sum() / c.square().sum()
        total += float(convergence + (c.log() - p.log()).abs().mean())
    return total / len(RESOLUTIONS)
