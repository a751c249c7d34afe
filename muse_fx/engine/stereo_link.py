"""Stereo link: one generator pass per multi-channel chunk, its gain shared by every channel.

Like a linked stereo compressor. The generator sees the channels' mean power, and each channel is then moved by the
same log-mel change. So a stereo file costs one pass instead of two, and the image (each bin's level difference
between the channels) is kept exactly. On real stereo (spaced pairs, duets, ensembles) a shared gain scored as well
per channel as separate passes. Channels that carry different music (hard-panned instruments, a mono take in one
channel) must not share a gain. Each chunk whose channels differ by more than UNLINK_DB is enhanced channel by
channel, as before. `benchmarks/stereo_link.py` measures both choices; the README gives its figures.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

UNLINK_DB = 18.0  # real stereo measured ≤ 12.1 dB apart, with or without noise; hard-panned solos ≥ 24.7 dB
DB_PER_LOG2 = 3.0103  # 10·log10(2): log2 power → dB


def channels_mean_power(degraded: torch.Tensor) -> torch.Tensor:
    """(B, channels, n_mels, frames) log2 mel power → (B, n_mels, frames): the log2 of the channels' mean power,
    which out-of-phase content cannot cancel as it would in a mid channel."""
    return torch.log2(torch.exp2(degraded).mean(dim=1))


def channel_spread_db(degraded: torch.Tensor) -> torch.Tensor:
    """(B, channels, n_mels, frames) log2 mel power → (B,) how far apart the channels are: the dB between the
    loudest and the quietest channel, averaged over the chunk's bins weighted by their power, so the music decides
    and not the noise floor under it."""
    power = torch.exp2(channels_mean_power(degraded)).flatten(1)
    spread = (degraded.amax(dim=1) - degraded.amin(dim=1)).flatten(1)
    return DB_PER_LOG2 * (spread * power).sum(dim=1) / power.sum(dim=1)


def generate_linked(degraded: torch.Tensor, generate: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """(B, channels, n_mels, frames) degraded log-mels → enhanced, the same shape.

    `generate` maps (rows, n_mels, frames) → (rows, n_mels, frames). A linked chunk is one row, its channels' mean
    power; an unlinked chunk is one row per channel.
    """
    channels = degraded.shape[1]
    if channels == 1:
        return generate(degraded.flatten(0, 1)).view_as(degraded)
    linked = channel_spread_db(degraded) <= UNLINK_DB
    mean_power = channels_mean_power(degraded[linked])
    rows = generate(torch.cat([mean_power, degraded[~linked].flatten(0, 1)]))
    shared_change = rows[: len(mean_power)] - mean_power
    enhanced = torch.empty_like(degraded)
    enhanced[linked] = degraded[linked] + shared_change.unsqueeze(1)
    enhanced[~linked] = rows[len(mean_power) :].unflatten(0, (-1, channels))
    return enhanced
