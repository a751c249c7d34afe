"""The General MIDI instruments the clean corpus is rendered with, each with a playable range."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    name: str
    program: int  # General MIDI program, 0-based
    low: int  # lowest MIDI pitch the real instrument plays
    high: int
    polyphonic: bool = False  # may keep chords; monophonic instruments play only the top note


INSTRUMENTS = (
    Instrument("clarinet", 71, 50, 91),
    Instrument("flute", 73, 60, 96),
    Instrument("oboe", 68, 58, 91),
    Instrument("trumpet", 56, 55, 82),
    Instrument("alto_sax", 65, 49, 80),
    Instrument("tenor_sax", 66, 44, 75),
    Instrument("violin", 40, 55, 100),
    Instrument("cello", 42, 36, 76),
    Instrument("piano", 0, 36, 96, polyphonic=True),
    Instrument("nylon_guitar", 24, 40, 84, polyphonic=True),
    Instrument("steel_guitar", 25, 40, 84, polyphonic=True),
    Instrument("overdriven_guitar", 29, 40, 84, polyphonic=True),
    Instrument("choir_aahs", 52, 48, 79),
    Instrument("voice_oohs", 53, 48, 79),
)

BY_NAME = {i.name: i for i in INSTRUMENTS}
