"""How a work is played: solo, a duet, an ensemble with one instrument per part, all parts on a keyboard, or a
tune over a drum kit. Mixed corpora teach the model polyphony; single lines alone made ensembles come out worse."""

from __future__ import annotations

import random
from dataclasses import dataclass

from muse_fx.training.corpus import Line, Work
from muse_fx.training.drums import groove
from muse_fx.training.humanise import TEMPO_BPM, Performance, perform
from muse_fx.training.instruments import BY_NAME, ENSEMBLES, INSTRUMENTS, KEYBOARDS, Instrument
from muse_fx.training.midi import DRUM_CHANNEL
from muse_fx.training.soundfonts import Soundfont

# Chances of each arrangement: a one-line tune is solo or over drums; a score is played in one of four ways.
TUNE_KINDS = {"solo": 0.7, "drums": 0.3}
SCORE_KINDS = {"ensemble": 0.45, "keys": 0.2, "duet": 0.15, "solo": 0.2}
BALANCE_DB = 3.0  # each ensemble part is drawn ±this around the others
DRUMS_DB = (-14.0, -4.0)  # the kit's level against the tune


@dataclass(frozen=True)
class Voice:
    instrument: str
    program: int
    channel: int
    performance: Performance
    gain_db: float = 0.0


@dataclass(frozen=True)
class Voices:
    """A work's voices as one arrangement plays them; what the soundfont and the real-instrument renders share."""

    work: str
    kind: str
    voices: tuple[Voice, ...]

    @property
    def instruments(self) -> str:
        return "+".join(v.instrument for v in self.voices)

    @property
    def duration(self) -> float:
        return max(v.performance.duration for v in self.voices)


@dataclass(frozen=True)
class Arrangement(Voices):
    soundfont: Soundfont
    drum_kit: Soundfont | None = None  # renders the drum voice when the kit is not the soundfont's own


def draw(rng: random.Random, chances: dict[str, float]) -> str:
    return rng.choices(list(chances), list(chances.values()))[0]


def merged(parts: tuple[Line, ...]) -> Line:
    notes = tuple(sorted((n for p in parts for n in p.notes), key=lambda n: (n.onset, n.pitches)))
    return Line(parts[0].work, "all", parts[0].kind, notes)


def perform_parts(
    parts: tuple[Line, ...], instruments: tuple[Instrument, ...], rng: random.Random
) -> tuple[Voice, ...]:
    """Parts in one tempo and one key; each part's notes fold into its instrument's range by octaves."""
    bpm = rng.uniform(*TEMPO_BPM[parts[0].kind])
    transposition = rng.randint(-3, 3) if len(parts) > 1 else None
    return tuple(
        Voice(i.name, i.program, 0, perform(p, i, rng, bpm, transposition), rng.uniform(-BALANCE_DB, BALANCE_DB))
        for p, i in zip(parts, instruments)
    )


def _score(work: Work, kind: str, rng: random.Random) -> tuple[Voice, ...]:
    parts = work.parts
    if kind == "ensemble":
        names = ENSEMBLES[rng.choice(sorted(ENSEMBLES))]
        instruments = tuple(BY_NAME[names[min(i, len(names) - 1)]] for i in range(len(parts)))
        return perform_parts(parts, instruments, rng)
    if kind == "keys":
        return perform_parts((merged(parts),), (BY_NAME[rng.choice(KEYBOARDS)],), rng)
    if kind == "duet":
        pair = (parts[0], parts[-1]) if rng.random() < 0.6 else tuple(rng.sample(parts, 2))
        return perform_parts(pair, tuple(rng.sample(INSTRUMENTS, 2)), rng)
    return perform_parts((rng.choice(parts),), (rng.choice(INSTRUMENTS),), rng)


def arrange(
    work: Work, rng: random.Random, soundfonts: tuple[Soundfont, ...], kits: tuple[Soundfont, ...]
) -> Arrangement:
    """Draw an arrangement of `work`, its soundfont, and for drums the kit (the font's own or a drum-kit font)."""
    soundfont = rng.choices(soundfonts, [f.weight for f in soundfonts])[0]
    if len(work.parts) > 1:
        kind = draw(rng, SCORE_KINDS)
        return Arrangement(work.work, kind, _score(work, kind, rng), soundfont)
    kind = draw(rng, TUNE_KINDS)
    (melody,) = perform_parts(work.parts, (rng.choice(INSTRUMENTS),), rng)
    if kind == "solo":
        return Arrangement(work.work, kind, (melody,), soundfont)
    kit = rng.choice(kits) if kits and rng.random() < 0.5 else None
    beats = groove(melody.performance.tempo_bpm, melody.performance.duration, rng)
    drums = Voice(
        "drums",
        0,
        0 if kit else DRUM_CHANNEL,
        Performance(beats, 0, melody.performance.tempo_bpm),
        rng.uniform(*DRUMS_DB),
    )
    return Arrangement(work.work, kind, (melody, drums), soundfont, kit)
