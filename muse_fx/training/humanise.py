"""Turn a score line into a humanised performance: instrument, transposition, tempo, velocity and timing."""

from __future__ import annotations

import random
from dataclasses import dataclass

from muse_fx.training.corpus import Line
from muse_fx.training.instruments import Instrument

TEMPO_BPM = {"tune": (80, 140), "chorale": (56, 96), "quartet": (60, 132)}
MAX_SECONDS = 75.0  # long quartet movements are cut: variety beats length
TIMING_JITTER_S = 0.012
MIN_NOTE_S = 0.03


@dataclass(frozen=True)
class Event:
    start: float  # seconds
    end: float
    pitch: int
    velocity: int


@dataclass(frozen=True)
class Performance:
    events: tuple[Event, ...]
    transposition: int
    tempo_bpm: float

    @property
    def duration(self) -> float:
        return max((e.end for e in self.events), default=0.0)


def transposition_for(line: Line, instrument: Instrument, rng: random.Random) -> int:
    """A random shift that keeps the line inside the instrument's range; the smallest misfit when none does."""
    low = min(n.pitches[0] for n in line.notes)
    high = max(n.pitches[-1] for n in line.notes)
    lo, hi = instrument.low - low, instrument.high - high
    if lo > hi:  # wider than the instrument: centre it, out-of-range notes get folded by octaves
        return round((lo + hi) / 2)
    near = [t for t in range(lo, hi + 1) if abs(t) <= 12]
    return rng.choice(near or list(range(lo, hi + 1)))


def _fold(pitch: int, instrument: Instrument) -> int:
    while pitch < instrument.low:
        pitch += 12
    while pitch > instrument.high:
        pitch -= 12
    return pitch


def perform(
    line: Line, instrument: Instrument, rng: random.Random, bpm: float | None = None, transposition: int | None = None
) -> Performance:
    """Humanise: tempo drawn per line, per-note timing jitter, a slow velocity drift plus per-note accents.

    Parts of one ensemble share `bpm` and `transposition`; notes outside an instrument's range fold by octaves.
    """
    if transposition is None:
        transposition = transposition_for(line, instrument, rng)
    if bpm is None:
        bpm = rng.uniform(*TEMPO_BPM[line.kind])
    seconds_per_quarter = 60.0 / bpm
    legato = rng.uniform(0.8, 1.0)
    level = rng.uniform(55, 105)
    events = []
    for note in line.notes:
        start = max(0.0, note.onset * seconds_per_quarter + rng.gauss(0.0, TIMING_JITTER_S))
        if start > MAX_SECONDS:
            break
        length = max(MIN_NOTE_S, note.duration * seconds_per_quarter * legato)
        level = min(115.0, max(40.0, level + rng.gauss(0.0, 2.0)))
        velocity = int(min(127, max(20, level + rng.gauss(0.0, 6.0))))
        pitches = note.pitches if instrument.polyphonic else note.pitches[-1:]
        for pitch in pitches:
            events.append(Event(start, start + length, _fold(pitch + transposition, instrument), velocity))
    return Performance(tuple(events), transposition, bpm)
