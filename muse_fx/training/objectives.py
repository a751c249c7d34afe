"""The training losses: Pix2Pix's LSGAN + L1 for mel2mel, losses on the fast path's waveform for what listeners hear,
DiffWave's ε-prediction loss for the musecoder.

DiffWave notation (Kong et al. 2021, Algorithm 1) → code: x_0 → `audio`, ε → `noise`, t → `steps`,
ᾱ_t → `alpha_cum[steps]`, x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε → `noisy`, ε_θ(x_t, t, mel) → `musecoder(noisy, …)`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

from muse_fx.engine.mel import LogMel
from muse_fx.engine.musecoder import Musecoder


def lsgan(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss (Mao et al. 2017), as in Pix2Pix's `gan_mode='lsgan'`."""
    return F.mse_loss(scores, torch.full_like(scores, float(real)))


STFT_RESOLUTIONS = ((512, 128), (1024, 256), (2048, 512))  # (n_fft, hop)
FLOOR_DB = 80.0  # magnitudes are floored this far below the clean's loudest bin, as in the full-band metrics
MUSIC_RANGE_DB = 30.0  # as the holes metric: frames of the clean within this of its loudest frame are music


class UnderWeighting(NamedTuple):
    """Where the over-suppression penalty weighs more than elsewhere: where holes occur.

    A music frame's weight grows by `quiet` × how far it lies below the clip's loudest frame, as a share of the
    30 dB music range (soft decays, which a model gates as if they were noise); bins below `low_hz` weigh
    `low` more (low strings: the penalty is spread over linear-frequency bins, so the few below 500 Hz that
    carry most of a cello's energy hardly count). Zero weights: the plain mean over every bin and frame.
    """

    quiet: float = 0.0
    low: float = 0.0
    low_hz: float = 500.0

    def weights(self, clean: torch.Tensor, sample_rate: int) -> torch.Tensor | None:
        """clean (B, bins, frames) STFT magnitudes → weights of the same shape (broadcast), or None when all 1."""
        if not (self.quiet or self.low):
            return None
        frame_db = 10 * torch.log10(clean.square().sum(-2) + 1e-12)  # (B, frames)
        below = frame_db.amax(-1, keepdim=True) - frame_db
        music = below <= MUSIC_RANGE_DB
        per_frame = 1 + self.quiet * music * below.clamp(max=MUSIC_RANGE_DB) / MUSIC_RANGE_DB
        bins = torch.linspace(0, sample_rate / 2, clean.shape[-2], device=clean.device)
        per_bin = 1 + self.low * (bins < self.low_hz)
        return per_bin[:, None] * per_frame[:, None, :]


UNWEIGHTED = UnderWeighting()


def spectral_losses(
    output: torch.Tensor, clean: torch.Tensor, sample_rate: int, under: UnderWeighting = UNWEIGHTED
) -> tuple[torch.Tensor, torch.Tensor]:
    """(MR-STFT distance, over-suppression) between (B, samples) waveforms, averaged over three resolutions.

    MR-STFT: spectral convergence + log-magnitude L1. Over-suppression: the log-magnitude shortfall where the output
    is BELOW the clean, so cutting music (gated decays, dull highs) costs more than leaving a little noise; `under`
    weighs it towards where holes occur (a weighted mean, so its scale stays that of the plain one).
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
        below = (log_c - log_o).clamp_min(0)
        weights = under.weights(c, sample_rate)
        shortfall = shortfall + (below.mean() if weights is None else (weights * below).sum() / weights.sum())
    return distance / len(STFT_RESOLUTIONS), shortfall / len(STFT_RESOLUTIONS)


def balance_loss(output_mel: torch.Tensor, clean_mel: torch.Tensor) -> torch.Tensor:
    """L1 between the output's and the clean's long-term spectrum, band by band: the (B, n_mels, frames) log2 mel
    power averaged over frames as power, as the tonal-balance metric averages it, in log2 units.

    Per-frame losses leave it free: a model can cut the presence region a little in every frame, or step where two
    halves meet, for little L1 but a colour every listener hears. Averaged as power, loud frames weigh as they
    sound and the level counts. Trained with a mean of the log-mels instead (this term's first form), full-band-real
    0.800 came out 2.1 dB quiet on the development set, and that level alone took its tonal deviation above 1 kHz
    from 1.48 to 2.55 dB.
    """
    return (_long_term(output_mel) - _long_term(clean_mel)).abs().mean()


def _long_term(log2_mel: torch.Tensor) -> torch.Tensor:
    """(..., n_mels, frames) log2 power → (..., n_mels) log2 of the mean power over frames, less log2(frames)."""
    return torch.logsumexp(log2_mel * math.log(2), dim=-1) / math.log(2)


def unrecorded_bands(draws: list[dict], log_mel: LogMel) -> torch.Tensor:
    """(B, 1, n_mels, 1) True for the mel bands wholly above the Nyquist frequency of a pair recorded at a lower
    rate (`low_rate` among its draws): its input and target both hold nothing there.

    The trainer gives the generator the clean's values in those bands, so they cost nothing either way. Trained
    towards the empty target, the model learned that a take without highs stays without them, and on the
    development set it left the cheap-mic takes (a low-pass at 2.5-16 kHz, a tail still above it) as dark as they
    came, while the low-rate pairs teach nothing the fast path can use: it gains the input, which is empty there.
    """
    fb = log_mel.filterbank  # (n_freq, n_mels)
    freqs = torch.linspace(0, log_mel.config.sample_rate / 2, fb.shape[0], device=fb.device)
    lowest = torch.where(fb > 0, freqs[:, None], math.inf).amin(dim=0)  # each band's lowest bin
    nyquist = torch.tensor([d.get("low_rate", {}).get("sample_rate", math.inf) / 2 for d in draws], device=fb.device)
    return (lowest[None] >= nyquist[:, None])[:, None, :, None]


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


def waveform_losses(
    output: torch.Tensor, clean: torch.Tensor, sample_rate: int, under_weighting: UnderWeighting = UNWEIGHTED
) -> dict[str, torch.Tensor]:
    """Every loss on the fast path's (B, samples) waveform, by name: what training weighs and validation reports."""
    mrstft, under = spectral_losses(output, clean, sample_rate, under_weighting)
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
