"""Sample-rate conversion between a recording's rate and a model's, shared by inference and training."""

from __future__ import annotations

import functools
import math

import numpy as np
import soxr
import torch
import torch.nn.functional as F
import torchaudio

# soxr's very high quality is flat to 0.91 × Nyquist: the crossover (bandsplit.py) meets an unattenuated model band.
RESAMPLE_QUALITY = "VHQ"
MAX_SINC_RATIO = 1000  # reduced rate factors up to this take the sinc resampler (44100/16000 = 441/160)
SINC = dict(lowpass_filter_width=64, rolloff=0.99, resampling_method="sinc_interp_kaiser", beta=14.77)


@functools.lru_cache(maxsize=16)
def _sinc(source: int, target: int, dtype: torch.dtype, device: torch.device) -> torchaudio.transforms.Resample:
    """The sinc kernel of one rate pair, built once: building it took 4–5× as long as applying it to a 3 s chunk."""
    return torchaudio.transforms.Resample(source, target, **SINC, dtype=dtype).to(device)


def resample(audio: torch.Tensor, source: int, target: int) -> torch.Tensor:
    """(B, n) → (B, ceil(n · target / source)), sample-aligned with the input, on the input's device.

    Rates in a small ratio (44.1 ↔ 16, 48 ↔ 44.1 kHz…) take torchaudio's windowed sinc, flat to 0.99 × Nyquist:
    a 16 kHz take goes up to a 44.1 kHz model and back, and soxr's two roll-offs from 0.91 × Nyquist would cut
    its top 600 Hz. Any other ratio goes through soxr, which handles it in bounded memory and time: a polyphase
    kernel for 8001 → 16000 Hz (no common factor) would take gigabytes. Trailing zeros let soxr reach the ceiling.
    """
    if source == target:
        return audio
    length = -(-audio.shape[-1] * target // source)
    divisor = math.gcd(source, target)
    if max(source, target) // divisor <= MAX_SINC_RATIO and audio.shape[-1]:  # torchaudio cannot take 0 samples
        out = _sinc(source, target, audio.dtype, audio.device)(audio)
        return F.pad(out, (0, length - out.shape[-1]))
    frames = F.pad(audio, (0, -(-source // target) + 1)).T.contiguous().cpu().numpy()  # (samples, B): B channels
    out = soxr.resample(frames, source, target, quality=RESAMPLE_QUALITY)[:length]
    return torch.from_numpy(np.ascontiguousarray(out.T)).to(audio.device)
