"""The General MIDI instruments the clean corpus is rendered with, each with a playable range, and the ensembles
that play several parts at once."""

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
    Instrument("piccolo", 72, 74, 108),
    Instrument("recorder", 74, 72, 98),
    Instrument("oboe", 68, 58, 91),
    Instrument("bassoon", 70, 34, 75),
    Instrument("trumpet", 56, 55, 82),
    Instrument("trombone", 57, 40, 72),
    Instrument("french_horn", 60, 41, 77),
    Instrument("tuba", 58, 28, 58),
    Instrument("soprano_sax", 64, 56, 87),
    Instrument("alto_sax", 65, 49, 80),
    Instrument("tenor_sax", 66, 44, 75),
    Instrument("violin", 40, 55, 100),
    Instrument("viola", 41, 48, 88),
    Instrument("cello", 42, 36, 76),
    Instrument("contrabass", 43, 28, 60),
    Instrument("piano", 0, 21, 108, polyphonic=True),
    Instrument("harpsichord", 6, 29, 89, polyphonic=True),
    Instrument("church_organ", 19, 36, 96, polyphonic=True),
    Instrument("nylon_guitar", 24, 40, 84, polyphonic=True),
    Instrument("steel_guitar", 25, 40, 84, polyphonic=True),
    Instrument("overdriven_guitar", 29, 40, 84, polyphonic=True),
    Instrument("choir_aahs", 52, 48, 79),
    Instrument("voice_oohs", 53, 48, 79),
    Instrument("synth_voice", 54, 48, 84),
)

BY_NAME = {i.name: i for i in INSTRUMENTS}

# Ensembles that play a four-part score, top part first; parts beyond the list reuse its last instrument.
ENSEMBLES = {
    "string_quartet": ("violin", "violin", "viola", "cello"),
    "wind_quartet": ("flute", "oboe", "clarinet", "bassoon"),
    "brass_quartet": ("trumpet", "trumpet", "french_horn", "trombone"),
    "sax_quartet": ("soprano_sax", "alto_sax", "tenor_sax", "tenor_sax"),
    "choir": ("choir_aahs", "choir_aahs", "voice_oohs", "voice_oohs"),
    "recorder_consort": ("recorder", "recorder", "recorder", "bassoon"),
    "strings_and_winds": ("flute", "violin", "viola", "cello"),
    "bass_strings": ("violin", "viola", "cello", "contrabass"),
}
KEYBOARDS = ("piano", "piano", "harpsichord", "church_organ", "nylon_guitar", "steel_guitar")
