"""Gated RMS loudness: a dependency-free stand-in for LUFS that ignores silences between phrases."""

from __future__ import annotations

import torch

BLOCK_S = 0.4
GATE_DB = -20.0  # blocks more than this below the loudest are ignored (like BS.1770's relative gate)


def loudness_db(audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """(..., samples) → (...) loudness in dB re full scale."""
    block = max(1, int(BLOCK_S * sample_rate))
    n = max(1, audio.shape[-1] // block) * block
    frames = torch.nn.functional.pad(audio, (0, max(0, n - audio.shape[-1])))[..., :n]
    power = frames.reshape(*audio.shape[:-1], -1, block).pow(2).mean(-1).clamp_min(1e-12)
    db = 10 * torch.log10(power)
    gated = db >= db.amax(-1, keepdim=True) + GATE_DB
    return 10 * torch.log10((power * gated).sum(-1) / gated.sum(-1))


def normalise(audio: torch.Tensor, sample_rate: int, target_db: float, peak: float = 0.98) -> torch.Tensor:
    """Scale to `target_db` gated loudness, then down if needed so no sample exceeds `peak`."""
    gain = 10 ** ((target_db - loudness_db(audio, sample_rate)) / 20)
    out = audio * gain.unsqueeze(-1)
    over = out.abs().amax(-1, keepdim=True).clamp_min(1e-9) / peak
    return out / over.clamp_min(1.0)
