"""Keeping the air above a 16 kHz model's Nyquist: the input's own high band, shaped like the model's top band.

A 16 kHz model hears nothing above 8 kHz. Rather than returning a muffled 44.1 kHz file, the band above the
crossover comes from the input, scaled frame by frame by the gain the model applied just below the crossover, so
noise the model removed there is also lowered above it.
"""

from __future__ import annotations

import math

import torch

REFERENCE_BAND = (0.60, 0.80)  # fractions of the model's Nyquist where the model's gain is measured
CROSSOVER = (0.80, 0.92)  # raised-cosine crossover from model output to gained input, below the resampler's roll-off
MAX_GAIN = 2.0  # the high band is never lifted more than +6 dB


def _stft_size(sample_rate: int) -> int:
    return 2 ** round(math.log2(0.046 * sample_rate))  # ~46 ms: 2048 at 44.1 kHz


def recombine_high_band(dry: torch.Tensor, wet: torch.Tensor, sample_rate: int, model_rate: int) -> torch.Tensor:
    """dry: input (B, samples); wet: model output resampled to `sample_rate` (B, samples) → full-band (B, samples)."""
    nyquist = model_rate / 2
    n_fft = _stft_size(sample_rate)
    hop = n_fft // 4
    window = torch.hann_window(n_fft, device=dry.device, dtype=dry.dtype)

    def stft(x):
        return torch.stft(x, n_fft, hop, window=window, center=True, pad_mode="constant", return_complex=True)

    dry_spec, wet_spec = stft(dry), stft(wet)
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, device=dry.device, dtype=dry.dtype)
    band = (freqs >= REFERENCE_BAND[0] * nyquist) & (freqs < REFERENCE_BAND[1] * nyquist)
    dry_energy = dry_spec[:, band].abs().square().sum(dim=1)
    wet_energy = wet_spec[:, band].abs().square().sum(dim=1)
    gain = (wet_energy / dry_energy.clamp_min(1e-12)).sqrt().clamp(max=MAX_GAIN)
    lo, hi = (f * nyquist for f in CROSSOVER)
    position = ((freqs - lo) / (hi - lo)).clamp(0, 1)
    crossover = (0.5 - 0.5 * torch.cos(math.pi * position)).unsqueeze(-1)  # 0 → model, 1 → input
    combined = (1 - crossover) * wet_spec + crossover * gain.unsqueeze(1) * dry_spec
    return torch.istft(combined, n_fft, hop, window=window, length=dry.shape[-1])
