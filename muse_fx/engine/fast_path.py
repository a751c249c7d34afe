"""The fast musecoder: the enhanced mel used as a time-frequency gain on the input's own STFT.

No waveform-rate network runs, so it is ~100× cheaper than diffusion; it keeps the input's phase, which makes it
faithful to the performance but unable to undo smearing that lives in the phase (heavy reverb). The same gain,
applied to the diffusion musecoder's output, pulls its envelope onto the enhanced mel (`match_mel`).
"""

from __future__ import annotations

import torch

from muse_fx.engine.mel import LogMel

MAX_BOOST_DB = 18.0  # a band may come back up to this much louder: enough for the ±15 dB mic EQ we undo


def _bin_weights(log_mel: LogMel) -> torch.Tensor:
    """(n_freq, n_mels) weights that spread a per-band value over STFT bins; every bin gets a full share."""
    fb = log_mel.filterbank
    empty = fb.sum(dim=1) == 0
    # Bins no mel triangle covers (DC, the very top) copy the nearest band.
    nearest = torch.where(torch.arange(len(fb), device=fb.device) < len(fb) // 2, 0, fb.shape[1] - 1)
    fb = fb.clone()
    fb[empty, nearest[empty]] = 1.0
    return fb / fb.sum(dim=1, keepdim=True)


def apply_mel_gain(
    audio: torch.Tensor, degraded: torch.Tensor, enhanced: torch.Tensor, log_mel: LogMel
) -> torch.Tensor:
    """audio (B, samples) whose log-mel is `degraded` (B, n_mels, frames) → audio whose log-mel ≈ `enhanced`."""
    return log_mel.istft(gain_stft(log_mel.stft(audio), degraded, enhanced, log_mel), audio.shape[-1])


def gain_stft(spec: torch.Tensor, degraded: torch.Tensor, enhanced: torch.Tensor, log_mel: LogMel) -> torch.Tensor:
    """`log_mel.stft` (B, n_freq, frames) of audio whose log-mel is `degraded` → the STFT gained towards `enhanced`.

    The log2 power difference per band is interpolated across bins in the log domain, halved into a magnitude
    gain and capped at MAX_BOOST_DB so bands that held only the floor are not blown up.
    """
    log2_power_gain = torch.einsum("fm,bmt->bft", _bin_weights(log_mel), enhanced - degraded)
    max_log2 = MAX_BOOST_DB / 20.0 * 3.321928  # dB → log2 of magnitude
    return spec * torch.exp2((0.5 * log2_power_gain).clamp(max=max_log2))


def limit_attenuation(degraded: torch.Tensor, enhanced: torch.Tensor, strength: float) -> torch.Tensor:
    """The enhanced log-mel with every cut scaled by `strength` (0…1) in the log domain; boosts are kept.

    Like the reduction knob of a restoration tool: 0.5 takes half the dB the model would take off, so noise is
    lowered less and soft decays under it are never gated harder than the user allows.
    """
    change = enhanced - degraded
    return degraded + torch.where(change < 0, change * strength, change)


def match_mel(audio: torch.Tensor, target: torch.Tensor, log_mel: LogMel, passes: int) -> torch.Tensor:
    """audio (B, samples) → the same waveform with its log-mel pulled onto `target` (B, n_mels, frames).

    A vocoder renders its conditioning mel only approximately: an undertrained one adds broadband hiss where
    the mel says silence. Each pass is a mel gain that keeps the vocoder's phase and fine structure; STFT overlap
    leaves part of the correction undone, so a few passes converge further (cf. Griffin–Lim's iterations).
    """
    for _ in range(passes):
        audio = apply_mel_gain(audio, log_mel(audio), target, log_mel)
    return audio
