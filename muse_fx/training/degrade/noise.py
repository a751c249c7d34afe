"""Additive noises: coloured, mains hum, hiss, HVAC rumble, babble and clicks. Each → ((samples,), params).

`unsteady` makes any of them swing in level (rain, wind, traffic, a crowd) as the noise in real takes does.
"""

from __future__ import annotations

import math
import random

import torch

from muse_fx.training.degrade.spectral import bin_frequencies, butterworth_gain, shape

COLOUR_EXPONENTS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # power ∝ 1 / f^exponent


def _randn(samples: int, rng: random.Random, device: torch.device) -> torch.Tensor:
    # Drawn on the CPU from a seeded generator: the same draw on any device.
    generator = torch.Generator().manual_seed(rng.getrandbits(63))
    return torch.randn(samples, generator=generator).to(device)


def coloured(samples: int, sample_rate: int, rng: random.Random, device: torch.device):
    colour = rng.choice(list(COLOUR_EXPONENTS))
    freqs = bin_frequencies(samples, sample_rate, device)
    gain = freqs.clamp_min(20.0) ** (-COLOUR_EXPONENTS[colour] / 2)
    return shape(_randn(samples, rng, device), gain), {"colour": colour}


def hum(samples: int, sample_rate: int, rng: random.Random, device: torch.device):
    """Mains hum: the fundamental plus decaying odd-and-even harmonics, with slight drift in pitch."""
    mains = rng.choice([50.0, 60.0])
    harmonics = rng.randint(3, 12)
    decay = rng.uniform(0.3, 0.9)
    t = torch.arange(samples, device=device) / sample_rate
    out = torch.zeros(samples, device=device)
    for k in range(1, harmonics + 1):
        f = mains * k * (1 + rng.uniform(-0.002, 0.002))
        if f < sample_rate / 2:
            out += decay ** (k - 1) * torch.sin(2 * math.pi * f * t + rng.uniform(0, 2 * math.pi))
    return out, {"mains_hz": mains, "harmonics": harmonics, "decay": round(decay, 3)}


def hiss(samples: int, sample_rate: int, rng: random.Random, device: torch.device):
    """Tape/preamp hiss: white noise high-passed at 2–6 kHz."""
    cutoff = rng.uniform(2000.0, 6000.0)
    gain = butterworth_gain(bin_frequencies(samples, sample_rate, device), cutoff, 2, highpass=True)
    return shape(_randn(samples, rng, device), gain), {"cutoff_hz": round(cutoff)}


def hvac(samples: int, sample_rate: int, rng: random.Random, device: torch.device):
    """Air-conditioning rumble: noise in a low band (40–120 Hz up to 300–1200 Hz) with a slow swell."""
    low, high = rng.uniform(40.0, 120.0), rng.uniform(300.0, 1200.0)
    freqs = bin_frequencies(samples, sample_rate, device)
    gain = butterworth_gain(freqs, low, 2, highpass=True) * butterworth_gain(freqs, high, 3, highpass=False)
    t = torch.arange(samples, device=device) / sample_rate
    swell = 1 + 0.2 * torch.sin(2 * math.pi * rng.uniform(0.05, 0.5) * t)
    return shape(_randn(samples, rng, device), gain) * swell, {"low_hz": round(low), "high_hz": round(high)}


def clicks(samples: int, sample_rate: int, rng: random.Random, device: torch.device):
    """Sparse clicks (vinyl, bad cables): short decaying impulses at a random rate of 0.5–20 per second."""
    rate = rng.uniform(0.5, 20.0)
    count = max(1, round(rate * samples / sample_rate))
    out = torch.zeros(samples, device=device)
    for _ in range(count):
        at, length = rng.randrange(samples), rng.randint(2, 24)
        burst = _randn(length, rng, device) * torch.exp(-torch.arange(length, device=device) / (length / 4))
        out[at : at + length] += (burst * rng.uniform(0.2, 1.0))[: samples - at]
    return out, {"clicks_per_s": round(rate, 2)}


def babble(samples: int, bank: list[torch.Tensor], rng: random.Random, device: torch.device):
    """3–8 talkers from the espeak-ng bank, each at a random offset and level, looped to length."""
    talkers = rng.randint(3, 8)
    out = torch.zeros(samples, device=device)
    for _ in range(talkers):
        voice = bank[rng.randrange(len(bank))].to(device)
        voice = voice.roll(rng.randrange(len(voice))).repeat(samples // len(voice) + 1)[:samples]
        out += voice * rng.uniform(0.5, 1.0) / voice.pow(2).mean().sqrt().clamp_min(1e-6)
    return out, {"talkers": talkers}


def recorded(samples: int, sample_rate: int, bank: list[torch.Tensor], rng: random.Random, device: torch.device):
    """A real noise recording from the bank at a random offset, looped to length, with a faint wideband hiss
    beside it (-30 to -15 dB): some recordings stop at 16.5 kHz, and a noise that leaves the top band clean
    would teach the model that real noise ends there."""
    index = rng.randrange(len(bank))
    recording = bank[index].to(device, torch.float32)
    looped = recording.roll(rng.randrange(len(recording))).repeat(samples // len(recording) + 1)[:samples]
    hiss_db = rng.uniform(-30.0, -15.0)
    floor, colour = coloured(samples, sample_rate, rng, device)
    return mix_at_snr(looped, floor, hiss_db), {"recording": index, "hiss_db": round(hiss_db, 2), **colour}


def unsteady(noise: torch.Tensor, sample_rate: int, rng: random.Random):
    """The noise's level wandering 2-8 dB (std) about its own, with a new level every 20-300 ms.

    Stationary noise is the easy case: a model can learn one floor per clip and gate to it. On paper-val's two
    worst clips the 4-8 kHz noise level has a 3-4 dB std, correlated over about 100 ms, uncorrelated with the music.
    """
    depth_db, every_s = rng.uniform(2.0, 8.0), math.exp(rng.uniform(math.log(0.02), math.log(0.3)))
    points = math.ceil(noise.shape[-1] / sample_rate / every_s) + 2
    levels_db = _randn(points, rng, noise.device) * depth_db
    envelope = torch.nn.functional.interpolate(
        levels_db.view(1, 1, -1), size=noise.shape[-1], mode="linear", align_corners=True
    ).view(-1)
    return noise * 10 ** (envelope / 20), {"depth_db": round(depth_db, 2), "every_ms": round(every_s * 1000)}


SYNTHETIC = {"coloured": coloured, "hum": hum, "hiss": hiss, "hvac": hvac, "clicks": clicks}


def mix_at_snr(clean: torch.Tensor, noise: torch.Tensor, nsr_db: float) -> torch.Tensor:
    """clean + noise scaled to `nsr_db` noise-to-signal power ratio (clean's power over the whole clip)."""
    signal = clean.pow(2).mean().clamp_min(1e-10)
    power = noise.pow(2).mean().clamp_min(1e-12)
    return clean + noise * torch.sqrt(signal / power * 10 ** (nsr_db / 10))
