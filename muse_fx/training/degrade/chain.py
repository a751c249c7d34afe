"""The degradation chain: room → noise → mic EQ → low-cut → band-limit → clipping → low rate → level.

`Degrader(clean)` returns (degraded, target, params): the target is the clean signal plus a faint noise floor,
aligned with the reverberant input and brought to the same loudness, so the model learns to clean, not to
change the level.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from muse_fx.training.degrade import eq, noise
from muse_fx.training.degrade.rooms import convolve_aligned
from muse_fx.training.loudness import gain_to


@dataclass(frozen=True)
class DegradeConfig:
    """Probabilities and ranges of each draw; the defaults follow the paper plus the extras it lacked."""

    # Real "clean" recordings have a noise floor; renders have digital silence. A faint floor added to both
    # (e.g. (-70, -40) dB NSR) would stop mel2mel gating pauses to the log floor, but it also teaches the
    # musecoder to hiss, and no shipped model was trained with it: off until a run measures it.
    clean_floor_db: tuple[float, float] | None = None  # NSR of the floor added to clean and degraded
    p_tone: float = 0.0  # gentle shelves on the clean signal itself (see eq.tone); the full-band config turns it on
    p_dark: float = 0.0  # a low-pass on the clean signal itself (see eq.darken)
    p_unsteady: float = 0.0  # each noise swinging in level (see noise.unsteady)
    p_real_noise: float = 0.0  # a drawn noise is a real recording from the `[data] noises` bank (see noise.recorded)
    p_reverb: float = 0.8
    p_noise: float = 0.9
    nsr_db: tuple[float, float] = (-30.0, -5.0)  # noise-to-signal ratio
    p_second_noise: float = 0.3
    p_mic_eq: float = 0.8
    p_low_cut: float = 0.4
    p_band_limit: float = 0.2
    p_clip: float = 0.15
    p_low_rate: float = 0.0  # the pair recorded at 16/22.05/32 kHz (see eq.low_rate); the full-band config turns it on
    level_db: tuple[float, float] = (-35.0, -8.0)  # loudness of the output pair


class Degrader:
    """Draws and applies one random chain per call. Banks are optional: without them that step is skipped."""

    def __init__(
        self,
        sample_rate: int,
        config: DegradeConfig = DegradeConfig(),
        rirs: list[torch.Tensor] | None = None,
        rt60: list[float] | None = None,
        babble: list[torch.Tensor] | None = None,
        recordings: list[torch.Tensor] | None = None,
    ):
        self.sample_rate = sample_rate
        self.config = config
        self.rirs = rirs or []
        self.rt60 = rt60 or [0.0] * len(self.rirs)
        self.babble = babble or []
        self.recordings = recordings or []  # real noise recordings (`muse-fx data noises`)

    def _noise(self, samples: int, rng: random.Random, device: torch.device):
        # Drawn only when on, as p_dark: configs without real noises keep their random stream.
        if self.config.p_real_noise and self.recordings and rng.random() < self.config.p_real_noise:
            kind = "recorded"
        else:
            kind = rng.choice(list(noise.SYNTHETIC) + (["babble"] if self.babble else []))
        if kind == "recorded":
            signal, params = noise.recorded(samples, self.sample_rate, self.recordings, rng, device)
        elif kind == "babble":
            signal, params = noise.babble(samples, self.babble, rng, device)
        else:
            signal, params = noise.SYNTHETIC[kind](samples, self.sample_rate, rng, device)
        params = {"kind": kind, **params}
        if self.config.p_unsteady and rng.random() < self.config.p_unsteady:  # drawn only when on, as p_dark
            signal, params["unsteady"] = noise.unsteady(signal, self.sample_rate, rng)
        return signal, params

    def __call__(self, clean: torch.Tensor, rng: random.Random) -> tuple[torch.Tensor, torch.Tensor, dict]:
        """clean (samples,) or (channels, samples) → (degraded, target, params), each the clean's shape; a stereo
        take gets one chain: the same room, and each noise alike in both channels."""
        c, sr = self.config, self.sample_rate
        params: dict = {}
        # Drawn first: a recording made at a lower rate has its noise at the drawn NSR within its own band, as a
        # 16 kHz recording does. Hiss mixed full-band at 44.1 kHz and then band-limited put 7 dB less of itself
        # below 8 kHz than in a 16 kHz recording, and the model learned to leave such hiss alone.
        rate = eq.low_rate(sr, rng) if rng.random() < c.p_low_rate else None
        if c.clean_floor_db is not None:
            floor, colour = noise.coloured(clean.shape[-1], sr, rng, clean.device)
            params["clean_floor"] = {**colour, "nsr_db": round(rng.uniform(*c.clean_floor_db), 2)}
            clean = noise.mix_at_snr(clean, floor, params["clean_floor"]["nsr_db"])
        if rng.random() < c.p_tone:
            clean, params["tone"] = eq.tone(clean, sr, rng)
        # Drawn only when on, so that configs without it keep their random stream (and their test pairs).
        if c.p_dark and rng.random() < c.p_dark:
            clean, params["dark"] = eq.darken(clean, sr, rng)
        audio = clean
        if self.rirs and rng.random() < c.p_reverb:
            index = rng.randrange(len(self.rirs))
            audio = convolve_aligned(audio, self.rirs[index])
            params["reverb"] = {"rir": index, "rt60": round(self.rt60[index], 3)}
        if rng.random() < c.p_noise:
            params["noise"] = []
            for _ in range(1 + (rng.random() < c.p_second_noise)):
                signal, draw = self._noise(audio.shape[-1], rng, audio.device)
                if rate:
                    signal = eq.recorded_at(signal, sr, rate)
                draw["nsr_db"] = round(rng.uniform(*c.nsr_db), 2)
                audio = noise.mix_at_snr(audio, signal, draw["nsr_db"])
                params["noise"].append(draw)
        for name, p, effect in (
            ("mic_eq", c.p_mic_eq, eq.mic_eq),
            ("low_cut", c.p_low_cut, eq.low_cut),
            ("band_limit", c.p_band_limit, eq.band_limit),
        ):
            if rng.random() < p:
                audio, params[name] = effect(audio, sr, rng)
        if rng.random() < c.p_clip:
            audio, params["clip"] = eq.clip(audio, rng)
        if rate:
            audio, clean = eq.recorded_at(torch.stack([audio, clean]), sr, rate).unbind()
            params["low_rate"] = {"sample_rate": rate}
        level = rng.uniform(*c.level_db)
        params["level_db"] = round(level, 2)
        degraded = _to_level(audio, level, sr)
        target = _to_level(clean, level, sr)
        peak = torch.maximum(degraded.abs().max(), target.abs().max()).clamp_min(1.0)
        return degraded / peak, target / peak, params

    def untouched(self, clean: torch.Tensor, rng: random.Random) -> tuple[torch.Tensor, torch.Tensor, dict]:
        """A no-harm pair: the clean take as its own input, at a drawn level, so a clean take is left alone."""
        level = rng.uniform(*self.config.level_db)
        target = _to_level(clean, level, self.sample_rate)
        target = target / target.abs().max().clamp_min(1.0)
        return target.clone(), target, {"no_harm": True, "level_db": round(level, 2)}


def _to_level(audio: torch.Tensor, level_db: float, sample_rate: int) -> torch.Tensor:
    """(samples,) or (channels, samples): one gain for every channel, so a stereo image keeps its balance."""
    return audio * gain_to(audio.reshape(-1, audio.shape[-1]).mean(0), sample_rate, level_db)
