"""Works from the music21 corpus, restricted to material whose derivatives we may redistribute.

A *work* is one tune, chorale or quartet movement, with its parts as lines; splits are drawn per work so no piece
leaks between them.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterator
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


@dataclass(frozen=True)
class Work:
    """Every part of one piece: one line for a tune, four for a chorale or a quartet movement."""

    work: str
    kind: str
    parts: tuple[Line, ...]


def split_for(key: str, shares: tuple[tuple[str, int], ...] = SPLITS) -> str:
    """Deterministic split from a work's id (or any other key: the room bank's RIRs, with their own `shares`,
    percentages), so re-renders and partial renders agree."""
    bucket = int(hashlib.sha1(key.encode()).hexdigest(), 16) % 100
    for name, share in shares:
        if bucket < share:
            return name
        bucket -= share
    raise AssertionError("split shares must sum to 100")


MAX_QUARTERS = 240.0  # a performance is cut at 75 s; even at 132 BPM that is under 170 quarter notes


def notes_of(part) -> tuple[Note, ...]:
    """music21 part → notes, tied notes joined, up to MAX_QUARTERS; zero-length notes (ABC grace notes) are dropped:
    FluidSynth never ends them.

    Ties are joined here rather than by music21's `stripTies`, whose deep copies take minutes on a whole quartet.
    """
    notes: list[Note] = []
    for element in part.flatten().notes:
        onset, duration = float(element.offset), float(element.duration.quarterLength)
        if onset >= MAX_QUARTERS:
            break
        if duration <= 0:
            continue
        pitches = tuple(sorted(p.midi for p in element.pitches))
        tie = element.tie or next((n.tie for n in getattr(element, "notes", ()) if n.tie), None)
        if tie is not None and tie.type in ("stop", "continue") and notes and notes[-1].pitches == pitches:
            notes[-1] = Note(notes[-1].onset, onset + duration - notes[-1].onset, pitches)
            continue
        notes.append(Note(onset, duration, pitches))
    return tuple(notes)


def _corpus_root() -> Path:
    from music21 import corpus

    return Path(corpus.__file__).parent


def parse_file(path: Path, kind: str) -> list[Work]:
    """The works in one corpus file: every tune of an ABC book, or the one chorale or quartet movement of a score.

    A file music21 cannot parse is skipped with a warning: one bad file is not fatal.
    """
    from music21 import converter, stream

    try:
        parsed = converter.parse(path)
    except Exception as error:  # noqa: BLE001 — music21's parsers raise many types
        LOG.warning("skipping %s: %s", path, error)
        return []
    if kind == "tune":
        scores = parsed.scores if hasattr(parsed, "scores") else [parsed]  # a one-tune book parses to a Score
        works = []
        for index, score in enumerate(scores):
            number = score.metadata.number if score.metadata and score.metadata.number else index
            notes = notes_of(score.parts[0] if score.parts else score)
            # Tune numbers repeat across books (Ryan's has one tune per file): the book names the work.
            work = f"{path.parent.name}/{path.stem}/{number}"
            if notes:
                works.append(Work(work, kind, (Line(work, "melody", kind, notes),)))
        return works
    work = str(path.relative_to(_corpus_root()).with_suffix(""))
    voices = list(parsed.parts) if isinstance(parsed, stream.Score) else [parsed]
    named = ((getattr(part, "partName", None) or f"part{i}", notes_of(part)) for i, part in enumerate(voices))
    parts = tuple(Line(work, name, kind, notes) for name, notes in named if notes)
    return [Work(work, kind, parts)] if parts else []


def sources() -> list[list[tuple[Path, str]]]:
    """(file, kind) lists, one per source; quartet composers take turns, so a render stopped by its hour budget
    has Haydn and Mozart too, not only Beethoven."""
    root = _corpus_root()
    tunes = [[(p, "tune") for p in sorted((root / c).glob("*.abc"))] for c in ABC_COLLECTIONS]
    chorales = [(p, "chorale") for p in sorted((root / "bach").glob("bwv*.mxl"))]
    composers = [sorted(p for f in folders for p in (root / f).rglob("*.mxl")) for folders in QUARTETS.values()]
    quartets = [(p, "quartet") for p in _interleave([iter(c) for c in composers])]
    return [*tunes, chorales, quartets]


def _interleave(sources: list[Iterator]) -> Iterator:
    for batch in itertools.zip_longest(*sources):
        yield from (item for item in batch if item is not None)


def _parsed(files: list[tuple[Path, str]], submit: Callable | None, ahead: int) -> Iterator[Work]:
    """The works of `files` in order; with `submit` (an executor's), the next `ahead` files parse meanwhile."""
    if submit is None:
        for path, kind in files:
            yield from parse_file(path, kind)
        return
    pending: deque = deque()
    queue = iter(files)
    for path, kind in itertools.islice(queue, ahead):
        pending.append(submit(parse_file, path, kind))
    while pending:
        works = pending.popleft().result()
        for path, kind in itertools.islice(queue, 1):
            pending.append(submit(parse_file, path, kind))
        yield from works


def works(submit: Callable | None = None, ahead: int = 2) -> Iterator[Work]:
    """Every work, interleaved across sources so a partial render is already varied. Parsing a quartet takes tens
    of seconds: pass an executor's `submit` to parse in its workers, `ahead` files per source in advance."""
    return _interleave([_parsed(files, submit, ahead) for files in sources()])
