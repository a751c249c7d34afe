"""Real instrument recordings in local clones, recognised by their layout: which file is which instrument, pitch,
dynamic and articulation, read from the file names each library uses (their octave numbering checked against the
libraries' own SFZ maps and by measuring the pitch).

Nothing is downloaded: the user clones each library (training/README.md, "Real instruments") and passes the
folders with `--real`. Splits are held out by source: `HELD_OUT` names whole instruments (and their recordings)
that training never sees; they make the development set and the trainer's validation split.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

# Whole instruments kept out of training, across families: the development set (`muse-fx data devset`) and the
# "validation" split of `muse-fx data real` are made of these alone. Keep training/README.md's table in step.
HELD_OUT = {
    "double_bass": "low string (Philharmonia): where models leave holes",
    "cor_anglais": "double reed (Philharmonia); the oboe stays in training",
    "french_horn": "brass (Philharmonia); the trombone stays in training",
    "mandolin": "plucked (Philharmonia); banjo and guitar stay in training",
    "headroom_piano": "BengtNilsson HeadroomPiano (Yamaha C3); SplendidGrandPiano stays in training",
    "guitar_black": "Karoryfer's black Hofner Club; the green Gretsch stays in training",
    "weresax_alto": "Karoryfer Weresax alto sax (condenser mic); Philharmonia's saxophone stays in training",
    "djembe": "hand drum (Philharmonia percussion)",
    "tambourine": "hand percussion (Philharmonia percussion)",
    "castanets": "hand percussion (Philharmonia percussion)",
    "surdo": "drum (Philharmonia percussion)",
    "male_voice": "a man singing (Berklee/OLPC sung vowels); the female voice and both choirs stay in training",
}

DYNAMICS = {  # nominal MIDI velocity of each marking the libraries use
    "pianissimo": 25,
    "piano": 40,
    "mezzo-piano": 55,
    "mezzo-forte": 70,
    "forte": 90,
    "fortissimo": 110,
}
PITCH_CLASSES = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}


@dataclass(frozen=True)
class Sample:
    """One recording: a single note (`pitch` set) to be sequenced, or a recording used as it is."""

    path: Path
    source: str  # the library, e.g. "philharmonia"
    instrument: str  # e.g. "cello", "headroom_piano"
    kind: str  # "note", "phrase" (played as it is), "percussion" (as it is) or "strum" (one chord, sequenced)
    pitch: int | None = None  # MIDI number of a note; for a strum, its chord's index in the kit
    velocity: int = 70  # the dynamic it was recorded at
    variant: str = ""  # mic position, round robin group…: one performance keeps one
    seconds: float = 0.0  # the nominal note length, where the library names it (0: unknown)

    @property
    def split(self) -> str:
        return "validation" if self.instrument in HELD_OUT else "train"


def midi_pitch(name: str, octave_offset: int = 1) -> int:
    """'As4' / 'A#4' / 'gb2' / 'B-1' → MIDI; `octave_offset` is the library's numbering (1: C4 = 60)."""
    match = re.fullmatch(r"([a-gA-G])(s|#|b)?(-?\d+)", name)
    if not match:
        raise ValueError(f"not a note name: {name!r}")
    letter, accidental, octave = match.groups()
    shift = {"s": 1, "#": 1, "b": -1}.get(accidental or "", 0)
    return 12 * (int(octave) + octave_offset) + PITCH_CLASSES[letter.lower()] + shift


# Philharmonia: audio/<instrument>/<instrument>_<note>_<length>_<dynamic>_<articulation>.mp3; lengths 025, 05, 1,
# 15 (seconds), long, very-long, phrase; percussion: audio/percussion/<instrument>/<instrument>__<length>_….
PHILHARMONIA_LENGTHS = {"025": 0.25, "05": 0.5, "1": 1.0, "15": 1.5, "long": 3.0, "very-long": 6.0}
ORDINARY = ("normal", "arco-normal")  # single notes to sequence; trills, harmonics, col legno… are left out


def _slug(name: str) -> str:
    return name.lower().replace(" ", "_").replace("-", "_")


def philharmonia(root: Path) -> Iterator[Sample]:
    for path in sorted((root / "audio").glob("*/*.mp3")):
        parts = path.stem.split("_")
        if len(parts) != 5:
            continue
        _, note, length, dynamic, articulation = parts
        instrument = _slug(path.parent.name)
        velocity = DYNAMICS.get(dynamic, 70)
        if length == "phrase":
            yield Sample(path, "philharmonia", instrument, "phrase", velocity=velocity, variant=articulation)
        elif length in PHILHARMONIA_LENGTHS and articulation in ORDINARY:
            pitch = midi_pitch(note)
            yield Sample(path, "philharmonia", instrument, "note", pitch, velocity, "", PHILHARMONIA_LENGTHS[length])
    for path in sorted((root / "audio" / "percussion").glob("*/*.mp3")):
        yield Sample(path, "philharmonia", _slug(path.parent.name), "percussion", variant=path.stem)


HEADROOM_LEVELS = {"1": 25, "2": 45, "3": 65, "4": 85, "5": 105}


def headroom(root: Path) -> Iterator[Sample]:
    """Samples/HEADROOM PIANO LEVEL<1-5> <CLOSE|DECCA> <midi>.flac: five layers, two mic positions."""
    for path in sorted((root / "Samples").glob("HEADROOM PIANO LEVEL* *.flac")):
        level, mic, pitch = path.stem.split()[2:]
        velocity = HEADROOM_LEVELS[level.removeprefix("LEVEL")]
        yield Sample(path, "headroom", "headroom_piano", "note", int(pitch), velocity, mic.lower())


SPLENDID_LAYERS = {"pp": 30, "mp": 55, "mf": 80, "ff": 110}


def splendid(root: Path) -> Iterator[Sample]:
    """Samples/<PP|Mp|MF|Mf|FF> <note>.flac, numbered as its SFZ maps them: C4 is MIDI 72."""
    for path in sorted((root / "Samples").glob("* *.flac")):
        layer, note = path.stem.split()
        if layer.lower() in SPLENDID_LAYERS:
            pitch = midi_pitch(note, octave_offset=2)
            yield Sample(path, "splendid", "splendid_piano", "note", pitch, SPLENDID_LAYERS[layer.lower()])


GUITAR_DYNAMICS = {"p": 40, "mf": 70, "f": 100}


def guitars(root: Path) -> Iterator[Sample]:
    """Samples/<black|green>/ord/twang_<note>_<dynamic>_rr<n>.wav; its SFZ maps a3 to MIDI 45."""
    for path in sorted((root / "Samples").glob("*/ord/twang_*_rr*.wav")):
        _, note, dynamic, _ = path.stem.split("_")
        instrument = f"guitar_{path.parent.parent.name}"
        pitch = midi_pitch(note, octave_offset=0)
        yield Sample(path, "karoryfer-guitars", instrument, "note", pitch, GUITAR_DYNAMICS.get(dynamic, 70))


def weresax(root: Path) -> Iterator[Sample]:
    """Samples/alto/<note>_<p|f>_rr<n>_<cnd|dnm>.wav; its SFZ maps db2 to MIDI 49. Only the condenser: the
    dynamic mic is overdriven on purpose, not a clean target."""
    for path in sorted((root / "Samples" / "alto").glob("*_rr*_cnd.wav")):
        note, dynamic = path.stem.split("_")[:2]
        yield Sample(path, "weresax", "weresax_alto", "note", midi_pitch(note, 2), 45 if dynamic == "p" else 95)


def strums(root: Path) -> Iterator[Sample]:
    """Hydrogen's belofilms_GuitarStrums kit: <chord>[_UP|_DOWN]_<layer>.flac, one strum of one chord each."""
    kit = root if (root / "drumkit.xml").exists() else root / "belofilms_GuitarStrums"
    files = sorted(kit.glob("*_0[0-3].flac"))
    chords = sorted({p.stem.rsplit("_", 1)[0].removesuffix("_UP").removesuffix("_DOWN") for p in files})
    for path in files:
        stem, layer = path.stem.rsplit("_", 1)
        chord = chords.index(stem.removesuffix("_UP").removesuffix("_DOWN"))
        velocity = 40 + 25 * int(layer)
        direction = "up" if stem.endswith("_UP") else "down" if stem.endswith("_DOWN") else "plain"
        yield Sample(path, "hydrogen-strums", "strum_guitar", "strum", chord, velocity, direction)


VOICES = {
    "femalevoice": "female_voice",
    "femalevoices": "female_choir",
    "malevoice": "male_voice",
    "malevoices": "male_choir",
}


def voices(root: Path) -> Iterator[Sample]:
    """Tonejs/audio's berklee/<female|male>voice[s]_<aa|oo>[2]_<note>.mp3: sung vowels, one singer or a choir, about
    3 s each (the only real singing found whose licence allows training: CC-BY 3.0)."""
    for path in sorted((root / "berklee").glob("*voice*_*_*.mp3")):
        match = re.fullmatch(r"(femalevoices?|malevoices?)_(aa|oo)2?_(?:\w+_)?([A-Ga-g][#b]?\d)", path.stem)
        if match:
            singer, vowel, note = match.groups()
            yield Sample(path, "berklee-voices", VOICES[singer], "note", midi_pitch(note), 70, vowel)


@dataclass(frozen=True)
class Layout:
    name: str
    marker: str  # a glob that matches only in this library's clone
    read: Callable[[Path], Iterator[Sample]]


LAYOUTS = (
    Layout("philharmonia", "audio/*/*_*_*_*_normal.mp3", philharmonia),
    Layout("headroom", "Samples/HEADROOM PIANO LEVEL1 *.flac", headroom),
    Layout("splendid", "Samples/PP *.flac", splendid),
    Layout("karoryfer-guitars", "Samples/*/ord/twang_*.wav", guitars),
    Layout("weresax", "Samples/alto/*_cnd.wav", weresax),
    Layout("hydrogen-strums", "*GuitarStrums*/*_00.flac", strums),
    Layout("hydrogen-strums", "Amajor_00.flac", strums),
    Layout("berklee-voices", "berklee/femalevoice_aa_*.mp3", voices),
)


def recognise(root: Path) -> Layout:
    """The layout of a local clone, or a ValueError naming what was expected."""
    for layout in LAYOUTS:
        if next(root.glob(layout.marker), None) is not None:
            return layout
    known = ", ".join(sorted({layout.name for layout in LAYOUTS}))
    raise ValueError(f"{root}: not a known instrument library (expected one of: {known}; see training/README.md)")


def scan(roots: list[Path]) -> list[Sample]:
    """Every usable recording in the given clones; a folder of no known layout is an error."""
    samples: list[Sample] = []
    for root in roots:
        found = list(recognise(root).read(root))
        if not found:
            raise ValueError(f"{root}: no recordings found in its {recognise(root).name} layout")
        samples.extend(found)
    return samples
