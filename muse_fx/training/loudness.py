"""Training audio's loudness as BS.1770 integrated loudness (LUFS, muse_fx.loudness), on tensors row by row."""

from __future__ import annotations

import torch

from muse_fx.loudness import integrated_loudness


def loudness_db(audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """(..., samples) → (...) LUFS of each row; -inf for a row under one 0.4 s gating block or below -70 LUFS."""
    rows = audio.detach().reshape(-1, audio.shape[-1]).cpu().double().numpy()
    measured = [integrated_loudness(row[None], sample_rate) for row in rows]
    return torch.tensor(measured, dtype=audio.dtype).reshape(audio.shape[:-1])


def gain_to(audio: torch.Tensor, sample_rate: int, target_db: float) -> torch.Tensor:
    """(..., samples) → (...) the factor that brings each row to `target_db` LUFS; 1 where it has no loudness."""
    gain = 10 ** ((target_db - loudness_db(audio, sample_rate)) / 20)
    return torch.where(torch.isfinite(gain), gain, torch.ones_like(gain))


def normalise(audio: torch.Tensor, sample_rate: int, target_db: float, peak: float = 0.98) -> torch.Tensor:
    """Scale each row to `target_db` LUFS, then down if needed so no sample exceeds `peak`."""
    out = audio * gain_to(audio, sample_rate, target_db).unsqueeze(-1)
    over = out.abs().amax(-1, keepdim=True).clamp_min(1e-9) / peak
    return out / over.clamp_min(1.0)
