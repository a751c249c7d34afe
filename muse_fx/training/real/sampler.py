"""A sampler: note events played with real single-note recordings, as a hardware sampler would.

For each note: the instrument's recording nearest in pitch (then in dynamic, then in length), shifted by at most
`MAX_SHIFT` semitones by resampling, cut to the note's length with a natural release fade. The fade runs past the
note's end, so consecutive notes overlap (legato) and the recordings' own attacks, vibrato and tone stay intact.
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
import torch

from muse_fx.training.humanise import Event
from muse_fx.training.instruments import Instrument
from muse_fx.training.real.sources import Sample

SAMPLE_RATE = 44100
MAX_SHIFT = 2  # semitones a recording is ever shifted; a note in a wider gap of the library plays this far off
MAX_SAMPLE_S = 10.0  # recordings are kept to this on load: longer notes end in their own decay
ONSET_DB = -40.0  # leading silence below this (re the peak) is cut, so the attack falls on the note's start
PRE_ROLL_S = 0.003
TAIL_S = 1.5  # room left after the last note for releases
PLUCKED = {"headroom_piano", "splendid_piano", "guitar", "guitar_black", "guitar_green", "banjo", "mandolin"}
POLYPHONIC = {"headroom_piano", "splendid_piano", "guitar", "guitar_black", "guitar_green"}
RELEASE_S = {"plucked": (0.25, 0.8), "sustained": (0.06, 0.2)}  # damper / breath and bow release, drawn per voice
VELOCITY_DB = 0.12  # dB of gain per velocity step between the note and its recording's dynamic (±6 dB at most)
PER_VOICE_VARIANT = {"headroom_piano", "female_voice", "female_choir", "male_voice", "male_choir"}  # one mic, one vowel
CACHE_BYTES = 600 << 20


def read_recording(path: Path, sample_rate: int = SAMPLE_RATE, max_seconds: float | None = None) -> torch.Tensor:
    """A recording → (channels, samples) float32 at `sample_rate`, its leading silence cut, at most `max_seconds`."""
    frames = int(max_seconds * 96000) if max_seconds else -1
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True, frames=frames)
    except (sf.LibsndfileError, RuntimeError) as error:
        raise ValueError(f"{path}: cannot read it ({error}); re-clone the library (training/README.md)") from None
    if rate != sample_rate:
        data = soxr.resample(data, rate, sample_rate)
    data = data[: int(max_seconds * sample_rate)] if max_seconds else data
    level = np.abs(data).max(axis=1)
    loud = np.flatnonzero(level > level.max() * 10 ** (ONSET_DB / 20))
    start = max(0, int(loud[0]) - int(PRE_ROLL_S * sample_rate)) if len(loud) else 0
    return torch.from_numpy(np.ascontiguousarray(data[start:].T))


class Recordings:
    """Decoded recordings, kept while they fit in CACHE_BYTES (a performance reuses one instrument's few)."""

    def __init__(self, sample_rate: int = SAMPLE_RATE):
        self.sample_rate = sample_rate
        self.cache: OrderedDict[Path, torch.Tensor] = OrderedDict()
        self.bytes = 0

    def __call__(self, path: Path) -> torch.Tensor:
        if path in self.cache:
            self.cache.move_to_end(path)
            return self.cache[path]
        audio = read_recording(path, self.sample_rate, MAX_SAMPLE_S)
        self.cache[path] = audio
        self.bytes += audio.numel() * 4
        while self.bytes > CACHE_BYTES and len(self.cache) > 1:
            _, old = self.cache.popitem(last=False)
            self.bytes -= old.numel() * 4
        return audio


def instrument_of(name: str, notes: list[Sample]) -> Instrument:
    """The range a sampler can play: the recorded pitches ± MAX_SHIFT."""
    pitches = [s.pitch for s in notes if s.pitch is not None]
    return Instrument(name, -1, min(pitches) - MAX_SHIFT, max(pitches) + MAX_SHIFT, polyphonic=name in POLYPHONIC)


def choose(notes: list[Sample], event: Event, variant: str | None, rng: random.Random) -> Sample:
    """Nearest in pitch, then in dynamic, then the shortest recording that lasts the note; round robins at random."""
    pool = [s for s in notes if variant is None or s.variant == variant] or notes
    length = event.end - event.start
    best = min(abs(s.pitch - event.pitch) for s in pool if s.pitch is not None)
    pool = [s for s in pool if s.pitch is not None and abs(s.pitch - event.pitch) == best]
    loudness = min(abs(s.velocity - event.velocity) for s in pool)
    pool = [s for s in pool if abs(s.velocity - event.velocity) == loudness]
    if any(s.seconds for s in pool):
        long_enough = [s for s in pool if s.seconds >= length]
        target = min(s.seconds for s in long_enough) if long_enough else max(s.seconds for s in pool)
        pool = [s for s in pool if s.seconds == target]
    return rng.choice(pool)


def _shifted(audio: torch.Tensor, semitones: int, sample_rate: int) -> torch.Tensor:
    """Played faster or slower, as a sampler does: pitch and length change together."""
    if not semitones:
        return audio
    ratio = 2 ** (semitones / 12)
    out = soxr.resample(audio.T.numpy(), sample_rate * ratio, sample_rate)
    return torch.from_numpy(np.ascontiguousarray(out.T))


def _release(audio: torch.Tensor, note_s: float, release_s: float, sample_rate: int) -> torch.Tensor:
    """Cut at the note's end plus a raised-cosine fade of `release_s`; a recording that ends sooner is kept whole."""
    end = int((note_s + release_s) * sample_rate)
    if audio.shape[-1] <= end:
        return audio
    fade = int(release_s * sample_rate)
    out = audio[:, :end].clone()
    out[:, end - fade :] *= 0.5 + 0.5 * torch.cos(torch.linspace(0, math.pi, fade))
    return out


def _placed(audio: torch.Tensor, channels: int, pan: float) -> torch.Tensor:
    """(c, n) → (channels, n): mono recordings panned at constant power, stereo ones balanced or folded to mono."""
    if channels == 1:
        return audio.mean(0, keepdim=True)
    angle = (pan + 1) * math.pi / 4
    gains = torch.tensor([math.cos(angle), math.sin(angle)]).unsqueeze(1) * math.sqrt(2)
    stereo = audio.expand(2, -1) if audio.shape[0] == 1 else audio[:2]
    return stereo * gains if audio.shape[0] == 1 else stereo * gains.clamp(max=1.0)


class Sampler:
    """Plays note events on the instruments of a set of recordings."""

    def __init__(self, samples: Iterable[Sample], sample_rate: int = SAMPLE_RATE):
        self.sample_rate = sample_rate
        self.notes: dict[str, list[Sample]] = {}
        for s in samples:
            if s.kind in ("note", "strum"):
                self.notes.setdefault(s.instrument, []).append(s)
        self.read = Recordings(sample_rate)

    def instruments(self, split: str | None = None) -> dict[str, Instrument]:
        return {
            name: instrument_of(name, notes)
            for name, notes in sorted(self.notes.items())
            if notes[0].kind == "note" and (split is None or notes[0].split == split)
        }

    def play(
        self,
        instrument: str,
        events: Iterable[Event],
        rng: random.Random,
        channels: int = 1,
        pan: float = 0.0,
    ) -> torch.Tensor:
        """Note events → (channels, samples) at the sampler's rate, TAIL_S past the last note."""
        notes = self.notes[instrument]
        events = list(events)
        variants = sorted({s.variant for s in notes})
        variant = rng.choice(variants) if instrument in PER_VOICE_VARIANT else None
        release = rng.uniform(*RELEASE_S["plucked" if instrument in PLUCKED else "sustained"])
        sr = self.sample_rate
        out = torch.zeros(channels, int((max((e.end for e in events), default=0.0) + TAIL_S + release) * sr))
        for event in events:
            sample = choose(notes, event, variant, rng)
            shift = event.pitch - sample.pitch if sample.kind == "note" and sample.pitch is not None else 0
            audio = _shifted(self.read(sample.path), max(-MAX_SHIFT, min(MAX_SHIFT, shift)), sr)
            audio = _release(audio, event.end - event.start, release, sr)
            gain_db = max(-6.0, min(6.0, (event.velocity - sample.velocity) * VELOCITY_DB))
            start = int(event.start * sr)
            piece = _placed(audio, channels, pan)[:, : out.shape[-1] - start] * 10 ** (gain_db / 20)
            out[:, start : start + piece.shape[-1]] += piece
        return out
