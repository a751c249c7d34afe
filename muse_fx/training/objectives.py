"""The training losses: Pix2Pix's LSGAN + L1 for mel2mel, losses on the fast path's waveform for what listeners hear,
DiffWave's ε-prediction loss for the musecoder.

DiffWave notation (Kong et al. 2021, Algorithm 1) → code: x_0 → `audio`, ε → `noise`, t → `steps`,
ᾱ_t → `alpha_cum[steps]`, x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε → `noisy`, ε_θ(x_t, t, mel) → `musecoder(noisy, …)`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from muse_fx.engine.musecoder import Musecoder


def lsgan(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss (Mao et al. 2017), as in Pix2Pix's `gan_mode='lsgan'`."""
    return F.mse_loss(scores, torch.full_like(scores, float(real)))


STFT_RESOLUTIONS = ((512, 128), (1024, 256), (2048, 512))  # (n_fft, hop)
FLOOR_DB = 80.0  # magnitudes are floored this far below the clean's loudest bin, as in the full-band metrics


def spectral_losses(output: torch.Tensor, clean: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(MR-STFT distance, over-suppression) between (B, samples) waveforms, averaged over three resolutions.

    MR-STFT: spectral convergence + log-magnitude L1. Over-suppression: the log-magnitude shortfall where the output
    is BELOW the clean, so cutting music (gated decays, dull highs) costs more than leaving a little noise.
    Magnitudes are floored relative to the clean's loudest bin: empty bins above a band limit must not dominate.
    """
    distance, shortfall = output.new_zeros(()), output.new_zeros(())
    for n_fft, hop in STFT_RESOLUTIONS:
        window = torch.hann_window(n_fft, device=output.device)
        o, c = (torch.stft(x, n_fft, hop, window=window, return_complex=True).abs() for x in (output, clean))
        floor = c.amax(dim=(-2, -1), keepdim=True) * 10 ** (-FLOOR_DB / 20) + 1e-8
        log_o, log_c = o.maximum(floor).log(), c.maximum(floor).log()
        convergence = torch.linalg.norm(c - o, dim=(-2, -1)) / torch.linalg.norm(c, dim=(-2, -1)).clamp_min(1e-8)
        distance = distance + convergence.mean() + (log_c - log_o).abs().mean()
        shortfall = shortfall + (log_c - log_o).clamp_min(0).mean()
    return distance / len(STFT_RESOLUTIONS), shortfall / len(STFT_RESOLUTIONS)


HIGH_HZ = 8000.0  # the muffling metric's split: energy above it is what a dull output loses first


def high_band_balance(output: torch.Tensor, clean: torch.Tensor, sample_rate: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(darkening, brightening): dB by which each (B, samples) output's share of energy above 8 kHz falls short of
    the clean's, and by which it exceeds it, each one-sided and averaged over the batch.

    The full-band muffling metric as a loss. Darkening alone was gamed: with nothing against it, a model trained
    on it boosted the highs of every clip (+8 dB on the validation pairs), which listeners hear as hiss and glare;
    brightening, weighted on its own, holds that back. Both are zero for models whose band ends at 8 kHz.
    """
    if sample_rate / 2 <= HIGH_HZ:
        return output.new_zeros(()), output.new_zeros(())
    high = torch.fft.rfftfreq(output.shape[-1], 1 / sample_rate, device=output.device) >= HIGH_HZ
    shares = []
    for x in (output, clean):
        power = torch.fft.rfft(x).abs().square()
        shares.append(10 * torch.log10(power[..., high].sum(-1) / power.sum(-1).clamp_min(1e-12) + 1e-9))
    excess = shares[0] - shares[1]
    return (-excess).clamp_min(0).mean(), excess.clamp_min(0).mean()


def waveform_losses(output: torch.Tensor, clean: torch.Tensor, sample_rate: int) -> dict[str, torch.Tensor]:
    """Every loss on the fast path's (B, samples) waveform, by name: what training weighs and validation reports."""
    mrstft, under = spectral_losses(output, clean)
    darkening, brightening = high_band_balance(output, clean, sample_rate)
    return {"mrstft": mrstft, "under": under, "darkening": darkening, "brightening": brightening}


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
