"""The training losses: Pix2Pix's LSGAN + L1 for mel2mel, DiffWave's ε-prediction loss for the musecoder.

DiffWave notation (Kong et al. 2021, Algorithm 1) → code: x_0 → `audio`, ε → `noise`, t → `steps`,
ᾱ_t → `alpha_cum[steps]`, x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε → `noisy`, ε_θ(x_t, t, mel) → `musecoder(noisy, …)`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..fast_path import apply_mel_gain
from ..mel import LogMel
from ..musecoder import Musecoder


def lsgan(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss (Mao et al. 2017), as in Pix2Pix's `gan_mode='lsgan'`."""
    return F.mse_loss(scores, torch.full_like(scores, float(real)))


def fast_path_l1(
    log_mel: LogMel, audio: torch.Tensor, degraded: torch.Tensor, enhanced: torch.Tensor, clean: torch.Tensor
) -> torch.Tensor:
    """L1 between the log-mel of what the fast musecoder would output and the clean log-mel.

    audio (B, samples); degraded/enhanced/clean log-mels (B, n_mels, frames). Trains mel2mel for the gains
    the default CPU path actually applies, including their cap and the STFT's overlap smearing.
    """
    return F.l1_loss(log_mel(apply_mel_gain(audio, degraded, enhanced, log_mel)), clean)


def diffusion_loss(
    musecoder: Musecoder, audio: torch.Tensor, mel: torch.Tensor, alpha_cum: torch.Tensor
) -> torch.Tensor:
    """audio (B, frames·hop) in [-1, 1], mel (B, n_mels, frames) conditioning → L1 on the predicted noise ε.

    L1 rather than the paper's L2, as in the reference DiffWave implementation: steadier on small batches.
    """
    steps = torch.randint(0, len(alpha_cum), (audio.shape[0],), device=audio.device)
    a = alpha_cum[steps].unsqueeze(-1)
    noise = torch.randn_like(audio)
    noisy = a.sqrt() * audio + (1 - a).sqrt() * noise
    return F.l1_loss(musecoder(noisy, steps.to(audio.dtype), musecoder.condition(mel)), noise)
