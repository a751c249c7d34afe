"""Microphone and channel colouration: 4-band EQ, low-cut, band-limiting, clipping. Each → (audio, params)."""

from __future__ import annotations

import random

import torch

from muse_fx.engine.resampling import resample  # the pipeline's own, so training sees what users hear
from muse_fx.training.degrade.spectral import bin_frequencies, butterworth_gain, shape, smooth_step

BAND_EDGES_HZ = (200.0, 1000.0, 4000.0)
MAX_BAND_DB = 15.0


def mic_eq(audio: torch.Tensor, sample_rate: int, rng: random.Random):
    """Four bands split at 200/1000/4000 Hz, each ±15 dB, joined by half-octave crossfades."""
    gains_db = [rng.uniform(-MAX_BAND_DB, MAX_BAND_DB) for _ in range(len(BAND_EDGES_HZ) + 1)]
    freqs = bin_frequencies(audio.shape[-1], sample_rate, audio.device)
    curve_db = torch.full_like(freqs, gains_db[0])
    for edge, below, above in zip(BAND_EDGES_HZ, gains_db, gains_db[1:]):
        curve_db = curve_db + (above - below) * smooth_step(freqs, edge)
    return shape(audio, 10 ** (curve_db / 20)), {"band_gains_db": [round(g, 2) for g in gains_db]}


def low_cut(audio: torch.Tensor, sample_rate: int, rng: random.Random):
    """A second- to fourth-order high-pass at 20–250 Hz, like a mic's or preamp's rumble filter."""
    cutoff, order = rng.uniform(20.0, 250.0), rng.randint(2, 4)
    freqs = bin_frequencies(audio.shape[-1], sample_rate, audio.device)
    return shape(audio, butterworth_gain(freqs, cutoff, order, highpass=True)), {
        "cutoff_hz": round(cutoff),
        "order": order,
    }


def band_limit(audio: torch.Tensor, sample_rate: int, rng: random.Random):
    """A low-pass at 2.5–16 kHz (log-uniform, below 0.9 × Nyquist): phone, cheap recorder or lossy-codec bandwidth."""
    return _random_low_pass(audio, sample_rate, rng, (2500.0, min(16000.0, 0.9 * sample_rate / 2)), orders=(4, 8))


def _random_low_pass(
    audio: torch.Tensor, sample_rate: int, rng: random.Random, cutoff_hz: tuple[float, float], orders: tuple[int, int]
):
    """A Butterworth low-pass, its cutoff log-uniform in `cutoff_hz` and its order drawn from `orders` (inclusive)."""
    low, high = cutoff_hz
    cutoff, order = low * (high / low) ** rng.random(), rng.randint(*orders)
    freqs = bin_frequencies(audio.shape[-1], sample_rate, audio.device)
    return shape(audio, butterworth_gain(freqs, cutoff, order, highpass=False)), {
        "cutoff_hz": round(cutoff),
        "order": order,
    }


LOW_RATES = (16000, 22050, 32000)


def low_rate(sample_rate: int, rng: random.Random) -> int | None:
    """The rate the recording was made at: 16, 22.05 or 32 kHz, below `sample_rate`; None for a model at 16 kHz
    or below, whose recordings are never at a lower rate than itself."""
    lower = [r for r in LOW_RATES if r < sample_rate]
    return rng.choice(lower) if lower else None


def recorded_at(audio: torch.Tensor, sample_rate: int, rate: int) -> torch.Tensor:
    """`audio` as a recording made at `rate` reaches the model: through the pipeline's resampler, down and up.

    Applied to the input and the target alike: above that Nyquist there is nothing to restore, so the model learns
    to clean inside the band instead of lifting a band edge that the clean take has too.
    """
    return resample(resample(audio, sample_rate, rate), rate, sample_rate)[..., : audio.shape[-1]]


def clip(audio: torch.Tensor, rng: random.Random):
    """Mild clipping: the peak is driven 1–8 dB over full scale into a hard or soft clipper, then scaled back."""
    drive_db, soft = rng.uniform(1.0, 8.0), rng.random() < 0.5
    peak = audio.abs().max().clamp_min(1e-9)
    driven = audio / peak * 10 ** (drive_db / 20)
    clipped = torch.tanh(driven) if soft else driven.clamp(-1.0, 1.0)
    return clipped * peak / 10 ** (drive_db / 20), {"drive_db": round(drive_db, 2), "soft": soft}


TONE_SHELVES_HZ = (250.0, 3000.0)
TONE_DB = 4.0


def tone(audio: torch.Tensor, sample_rate: int, rng: random.Random):
    """Gentle low and high shelves (±4 dB at 250 Hz and 3 kHz) on the CLEAN signal, before any degradation.

    Input and target both carry them, so a darker or brighter instrument is not something to correct: only the
    degradation's EQ is there to undo. Soundfont samples span a narrower range of timbres than real players.
    """
    gains_db = [rng.uniform(-TONE_DB, TONE_DB) for _ in TONE_SHELVES_HZ]
    freqs = bin_frequencies(audio.shape[-1], sample_rate, audio.device)
    low, high = (smooth_step(freqs, f, octaves=2.0) for f in TONE_SHELVES_HZ)  # two-octave slopes: gentle
    curve_db = gains_db[0] * (1 - low) + gains_db[1] * high
    return shape(audio, 10 ** (curve_db / 20)), {"shelves_db": [round(g, 2) for g in gains_db]}


DARK_CUTOFF_HZ = (1000.0, 6000.0)


def darken(audio: torch.Tensor, sample_rate: int, rng: random.Random):
    """A first- to fourth-order low-pass at 1–6 kHz (log-uniform) on the CLEAN signal: a dark instrument, a dull or
    distant mic, an old recording.

    Input and target both carry it and the noise mixed in later does not, so the model learns to take hiss off the
    top of a dark take instead of expecting highs under it: real solos on paper-val fall 50–65 dB from their lowest
    octave to 6–8 kHz, where the renders' steep ones are mostly tubas and bassoons.
    """
    return _random_low_pass(audio, sample_rate, rng, DARK_CUTOFF_HZ, orders=(1, 4))
