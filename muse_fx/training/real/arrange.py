"""How a work is played on real instruments: the same draws as the soundfont renders (`training/arrangement.py`:
solo, duet, ensemble, all parts on a keyboard), with each split's own instruments, and strummed chords."""

from __future__ import annotations

import random
from dataclasses import dataclass

from muse_fx.training.arrangement import SCORE_KINDS, Voice, Voices, draw, merged, perform_parts
from muse_fx.training.corpus import Work
from muse_fx.training.humanise import TIMING_JITTER_S, Event, Performance
from muse_fx.training.instruments import Instrument

# Four-part ensembles, top part first, per split: the validation ones use held-out instruments alone.
# An ensemble whose instruments are not all cloned is not drawn.
ENSEMBLES = {
    "train": {
        "wind_quartet": ("flute", "oboe", "clarinet", "bassoon"),
        "low_reeds": ("clarinet", "bass_clarinet", "bassoon", "contrabassoon"),
        "cellos": ("cello", "cello", "cello", "cello"),
        "winds_and_cello": ("oboe", "clarinet", "bassoon", "cello"),
        "mixed": ("flute", "saxophone", "trombone", "cello"),
        "trombones": ("saxophone", "trombone", "trombone", "contrabassoon"),
        "plucked": ("guitar_green", "banjo", "guitar", "cello"),
        "choir": ("female_choir", "female_voice", "male_choir", "male_choir"),
        "voices_and_winds": ("female_voice", "oboe", "clarinet", "bassoon"),
    },
    "validation": {
        "horns_and_bass": ("cor_anglais", "french_horn", "french_horn", "double_bass"),
        "sax_and_horn": ("weresax_alto", "cor_anglais", "french_horn", "double_bass"),
        "plucked": ("mandolin", "guitar_black", "guitar_black", "double_bass"),
        "voice_and_horns": ("weresax_alto", "cor_anglais", "male_voice", "double_bass"),
    },
}
KEYBOARDS = {
    "train": ("splendid_piano", "splendid_piano", "guitar_green", "guitar"),
    "validation": ("headroom_piano", "headroom_piano", "guitar_black"),
}
STRUM_BPM = (70.0, 130.0)
STRUM_SECONDS = (15.0, 35.0)


@dataclass(frozen=True)
class RealArrangement(Voices):
    """A work's voices for the sampler: no soundfont."""


def _ensembles(split: str, present: dict[str, Instrument]) -> list[tuple[str, ...]]:
    return [names for names in ENSEMBLES[split].values() if all(n in present for n in names)]


def arrange_real(
    work: Work, split: str, present: dict[str, Instrument], rng: random.Random, kind: str | None = None
) -> RealArrangement:
    """Draw how `work` is played on `present` (the split's instruments that were cloned); `kind` (solo, duet,
    ensemble, keys) is drawn as for the renders unless given."""
    melodic = sorted(present)
    keyboards = [k for k in KEYBOARDS[split] if k in present]
    kind = kind or (draw(rng, SCORE_KINDS) if len(work.parts) > 1 else "solo")
    ensembles = _ensembles(split, present)
    if kind == "ensemble" and not ensembles or kind == "keys" and not keyboards:
        kind = "duet"
    parts = work.parts
    if kind == "ensemble":
        names = rng.choice(ensembles)
        chosen = tuple(present[names[min(i, len(names) - 1)]] for i in range(len(parts)))
    elif kind == "keys":
        parts, chosen = (merged(parts),), (present[rng.choice(keyboards)],)
    elif kind == "duet" and len(melodic) > 1:
        parts = (parts[0], parts[-1]) if rng.random() < 0.6 else tuple(rng.sample(parts, 2))
        chosen = tuple(present[n] for n in rng.sample(melodic, 2))
    else:
        kind, parts, chosen = "solo", (rng.choice(parts),), (present[rng.choice(melodic)],)
    return RealArrangement(work.work, kind, perform_parts(parts, chosen, rng))


def strumming(work: str, chords: int, rng: random.Random) -> RealArrangement:
    """Rhythm guitar: a progression of the kit's chords (pitch = chord index), a strum on every beat or half beat,
    each ringing until the next."""
    bpm = rng.uniform(*STRUM_BPM)
    step = 60.0 / bpm / rng.choice((1, 2))
    seconds = rng.uniform(*STRUM_SECONDS)
    progression = [rng.randrange(chords) for _ in range(rng.randint(3, 6))]
    per_chord = rng.choice((4, 8, 16))
    level = rng.uniform(50, 110)
    events = []
    for index in range(int(seconds / step)):
        start = max(0.0, index * step + rng.gauss(0.0, TIMING_JITTER_S))
        velocity = int(min(127, max(20, level + rng.gauss(0.0, 8.0) + (10 if index % 2 == 0 else -5))))
        chord = progression[(index // per_chord) % len(progression)]
        events.append(Event(start, start + step, chord, velocity))
    return RealArrangement(work, "strum", (Voice("strum_guitar", -1, 0, Performance(tuple(events), 0, bpm)),))
