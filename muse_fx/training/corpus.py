"""Solo lines from the music21 corpus, restricted to material whose derivatives we may redistribute.

A *work* is one tune, chorale or quartet movement; splits are drawn per work so no piece leaks between them.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Public-domain sources only: not the Essen collection nor Palestrina (their licences forbid derivatives).
ABC_COLLECTIONS = ("oneills1850", "ryansMammoth", "airdsAirs")
QUARTETS = {  # composer → corpus folders
    "beethoven": ("beethoven",),
    "haydn": ("haydn",),
    "mozart": ("mozart/k155", "mozart/k156", "mozart/k458", "mozart/k80"),
}
LOG = logging.getLogger(__name__)
SPLITS = (("train", 90), ("validation", 5), ("test", 5))  # percentages


@dataclass(frozen=True)
class Note:
    onset: float  # quarter notes from the start
    duration: float  # quarter notes, > 0
    pitches: tuple[int, ...]  # MIDI numbers, highest last


@dataclass(frozen=True)
class Line:
    """One part of one work, ready to be given an instrument."""

    work: str
    part: str
    kind: str  # "tune", "chorale" or "quartet": sets the tempo range
    notes: tuple[Note, ...]


def split_for(work: str) -> str:
    """Deterministic split from the work id, so re-renders and partial renders agree."""
    bucket = int(hashlib.sha1(work.encode()).hexdigest(), 16) % 100
    for name, share in SPLITS:
        if bucket < share:
            return name
        bucket -= share
    raise AssertionError("split shares must sum to 100")


def notes_of(part) -> tuple[Note, ...]:
    """music21 part → notes; zero-length notes (ABC grace notes) are dropped: FluidSynth never ends them."""
    notes = []
    for element in part.stripTies().flatten().notes:
        duration = float(element.duration.quarterLength)
        if duration <= 0:
            continue
        pitches = tuple(sorted(p.midi for p in element.pitches))
        notes.append(Note(float(element.offset), duration, pitches))
    return tuple(notes)


def _corpus_root() -> Path:
    from music21 import corpus

    return Path(corpus.__file__).parent


def _abc_lines(collection: str) -> Iterator[Line]:
    from music21 import converter

    for path in sorted((_corpus_root() / collection).glob("*.abc")):
        try:
            opus = converter.parse(path)
        except Exception as error:  # noqa: BLE001 — music21's parsers raise many types; one bad file is not fatal
            LOG.warning("skipping %s: %s", path, error)
            continue
        scores = opus.scores if hasattr(opus, "scores") else [opus]  # a one-tune book parses to a Score
        for index, score in enumerate(scores):
            number = score.metadata.number if score.metadata and score.metadata.number else index
            notes = notes_of(score.parts[0] if score.parts else score)
            if notes:  # tune numbers repeat across books (Ryan's has one tune per file): the book names the work
                yield Line(f"{collection}/{path.stem}/{number}", "melody", "tune", notes)


def _score_lines(paths: list[Path], kind: str) -> Iterator[Line]:
    from music21 import converter

    root = _corpus_root()
    for path in paths:
        try:
            score = converter.parse(path)
        except Exception as error:  # noqa: BLE001 — as above
            LOG.warning("skipping %s: %s", path, error)
            continue
        work = str(path.relative_to(root).with_suffix(""))
        for index, part in enumerate(score.parts):
            notes = notes_of(part)
            if notes:
                yield Line(work, part.partName or f"part{index}", kind, notes)


def _chorale_lines() -> Iterator[Line]:
    return _score_lines(sorted((_corpus_root() / "bach").glob("bwv*.mxl")), "chorale")


def _quartet_lines() -> Iterator[Line]:
    """Composers take turns, so a render stopped by its hour budget has Haydn and Mozart too, not only Beethoven."""
    root = _corpus_root()
    composers = [
        _score_lines(sorted(p for folder in folders for p in (root / folder).rglob("*.mxl")), "quartet")
        for folders in QUARTETS.values()
    ]
    return _interleave(composers)


def _interleave(sources: list[Iterator[Line]]) -> Iterator[Line]:
    for batch in itertools.zip_longest(*sources):
        yield from (line for line in batch if line is not None)


def lines() -> Iterator[Line]:
    """Every line, interleaved across sources so a partial render is already varied."""
    return _interleave([_abc_lines(c) for c in ABC_COLLECTIONS] + [_chorale_lines(), _quartet_lines()])
