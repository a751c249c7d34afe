"""Synthetic clean music for tests and smoke runs: harmonic tones with envelopes, no renderer needed."""

from __future__ import annotations

import math
import random

import torch


def tone_sequence(seconds: float, sample_rate: int, rng: random.Random) -> torch.Tensor:
    """(samples,) a melody of harmonic notes with attack/decay envelopes and a little vibrato, peak ≈ 0.5."""
    samples = int(seconds * sample_rate)
    out = torch.zeros(samples)
    t_all = torch.arange(samples) / sample_rate
    start = 0
    brightness = rng.uniform(0.4, 0.85)
    while start < samples:
        length = int(rng.uniform(0.12, 0.6) * sample_rate)
        f0 = 110.0 * 2 ** (rng.randint(0, 36) / 12)
        t = t_all[: min(length, samples - start)]
        phase = 2 * math.pi * f0 * t + 0.003 * f0 * torch.sin(2 * math.pi * 5.5 * t)
        note = sum(brightness ** (k - 1) * torch.sin(k * phase) for k in range(1, 9) if k * f0 < sample_rate / 2)
        envelope = (t / 0.01).clamp(max=1.0) * torch.exp(-t * rng.uniform(1.0, 6.0))
        out[start : start + len(t)] += note * envelope
        start += length
    return 0.5 * out / out.abs().max().clamp_min(1e-6)
