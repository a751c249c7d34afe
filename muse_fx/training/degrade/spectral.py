"""Frequency-domain helpers shared by the noise colours and the EQ: shape a signal with a gain per FFT bin."""

from __future__ import annotations

import torch


def bin_frequencies(samples: int, sample_rate: int, device: torch.device) -> torch.Tensor:
    return torch.fft.rfftfreq(samples, 1.0 / sample_rate, device=device)


def shape(audio: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
    """(..., samples) filtered by a real gain per rfft bin (n//2 + 1,): zero-phase, circular over the clip."""
    return torch.fft.irfft(torch.fft.rfft(audio) * gain, n=audio.shape[-1])


def smooth_step(freqs: torch.Tensor, edge: float, octaves: float = 0.5) -> torch.Tensor:
    """0 below `edge`, 1 above, with a raised-cosine crossover `octaves` wide centred on it (log frequency)."""
    position = (torch.log2(freqs.clamp_min(1.0) / edge) / octaves + 0.5).clamp(0.0, 1.0)
    return 0.5 - 0.5 * torch.cos(torch.pi * position)


def butterworth_gain(freqs: torch.Tensor, cutoff: float, order: int, highpass: bool) -> torch.Tensor:
    ratio = (freqs / cutoff) if not highpass else (cutoff / freqs.clamp_min(1e-3))
    return 1.0 / torch.sqrt(1.0 + ratio ** (2 * order))
