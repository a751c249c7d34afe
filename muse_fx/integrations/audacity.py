"""Enhance what is selected in a running Audacity and add the result as a new track beside the source.

The workflow only ever adds: source tracks keep their samples, names and positions, and the user's
selection (time range and tracks) is put back at the end. Audacity 3.2 cannot report the selected time
range (there is no ``GetInfo: Type=Selection``), so a label is added over it, read back and undone; the
range itself is kept exactly with ``SelSave:``/``SelRestore:``, because reported times carry only six
significant digits.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from muse_fx.integrations.audacity_pipe import AudacityCommandError, AudacityError, AudacityPipe, quote
from muse_fx.interrupts import interrupts_deferred

EnhanceFile = Callable[[Path, Path], None]
"""``enhance_file(source, destination)``: read a WAV, write the enhanced WAV (same rate, channels, length)."""

# libsndfile codes: WAV header 0x10000, 32-bit float samples 6. Export2 has no format parameter.
_WAV_ENCODING_PREF = "/FileFormats/ExportFormat_SF1_Type/WAV_10000"
_FLOAT_ENCODING = "6"
_REFUSED_IN_FILE_NAMES = re.compile(r'[\x00-\x1f<>:"/\\|?*]' if sys.platform == "win32" else r"[\x00/]")
_NOTHING_SELECTED = (
    "Nothing is selected in Audacity: drag over the audio to enhance (Shift-click to add tracks), then run "
    "this command again."
)
_AFTER_THE_END = (
    "The selected range starts after the end of the audio on the selected tracks: select a range that "
    "contains audio, then run this command again."
)


@dataclass(frozen=True)
class Track:
    """One row of ``GetInfo: Type=Tracks``; ``index`` is the number ``Select``/``SetTrack`` call ``Track``."""

    index: int
    name: str
    kind: str
    channels: int
    selected: bool
    focused: bool
    muted: bool
    solo: bool


@dataclass(frozen=True)
class Selection:
    """The selected time range in seconds (six significant digits, as reported) and the selected tracks."""

    start: float
    end: float
    tracks: tuple[Track, ...]
    focus: int | None  # the track with keyboard focus, which the commands used here move


def enhance_selection(
    pipe: AudacityPipe,
    enhance_file: EnhanceFile,
    workdir: Path | None = None,
    on_added: Callable[[str], None] = lambda name: None,
) -> list[str]:
    """Enhance each selected audio track over the selected range; return the names of the tracks added.

    `on_added(name)` hears of each track as it is added: a stop signal is held until a track is added, named,
    aligned and reported, so what was reported before an interruption is what Audacity holds.
    """
    selection = read_selection(pipe)
    try:
        with _float_wav_export(pipe), tempfile.TemporaryDirectory(dir=workdir) as tmp:
            added = [
                _enhance_track(pipe, track, Path(tmp), enhance_file, on_added)
                for track in selection.tracks
                if track.kind == "wave"
            ]
    finally:
        _restore_selection(pipe, selection)
    if not any(added):
        raise AudacityError(_AFTER_THE_END)
    return [name for name in added if name]


def export_selection(pipe: AudacityPipe, folder: Path) -> Path:
    """Export the selected range of the first selected audio track into `folder` as a 32-bit float WAV named
    after the track; the user's selection and export setting are left as they were."""
    selection = read_selection(pipe)
    track = next(track for track in selection.tracks if track.kind == "wave")  # read_selection checked there is one
    path = folder / f"{_file_stem(track.name)}.wav"
    try:
        with _float_wav_export(pipe):
            if not _export_track(pipe, track, path):
                raise AudacityError(_AFTER_THE_END)
    finally:
        _restore_selection(pipe, selection)
    return path


def read_tracks(pipe: AudacityPipe) -> list[Track]:
    """Every track of the project, in Audacity's order (a stereo track is one row)."""
    rows = parse_json(pipe.command("GetInfo: Type=Tracks Format=JSON"))
    return [
        Track(
            index=index,
            name=row["name"],
            kind=row["kind"],
            channels=int(row.get("channels", 0)),
            selected=bool(row.get("selected")),
            focused=bool(row.get("focused")),
            muted=bool(row.get("mute")),
            solo=bool(row.get("solo")),
        )
        for index, row in enumerate(rows)
    ]


def read_selection(pipe: AudacityPipe) -> Selection:
    """The user's selection; raise AudacityError naming what to select when no audio is selected."""
    tracks = read_tracks(pipe)
    selected = tuple(track for track in tracks if track.selected)
    _check_exportable([track for track in selected if track.kind == "wave"], tracks)
    pipe.command("SelSave:")
    before = _labels(pipe)
    pipe.command("AddLabel:")
    added = list((_labels(pipe) - before).elements())
    if len(added) != 1:
        raise AudacityError(f"Could not read the selection: adding a label over it added {len(added)} labels.")
    pipe.command("Undo:")  # removes the label; also resets the selection, hence the restore
    focus = next((track.index for track in tracks if track.focused), None)
    selection = Selection(added[0][0], added[0][1], selected, focus)
    _restore_selection(pipe, selection)
    if selection.end <= selection.start:
        raise AudacityError(_NOTHING_SELECTED)
    return selection


def parse_json(text: str):
    """Parse Audacity's JSON; 3.2 escapes quotes in names but not backslashes, so ``a\\x`` arrives invalid."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return json.loads(re.sub(r'\\(?!")', r"\\\\", text))


def _check_exportable(waves: list[Track], tracks: list[Track]) -> None:
    """Refuse before Audacity does: its "all selected audio is muted" message is a modal dialog."""
    if not waves:
        raise AudacityError(_NOTHING_SELECTED)
    any_solo = any(track.solo for track in tracks if track.kind == "wave")
    silent = [track.name for track in waves if (not track.solo if any_solo else track.muted)]
    if silent:
        raise AudacityError(
            f"Audacity would export silence for {', '.join(map(repr, silent))}: unmute it (or un-solo the other "
            "tracks), then run this command again."
        )


def _labels(pipe: AudacityPipe) -> Counter:
    """All labels of the project as a multiset of (start, end, text)."""
    per_track = parse_json(pipe.command("GetInfo: Type=Labels Format=JSON"))
    return Counter((start, end, text) for _track, labels in per_track for start, end, text in labels)


def _enhance_track(
    pipe: AudacityPipe, track: Track, tmp: Path, enhance_file: EnhanceFile, on_added: Callable[[str], None]
) -> str | None:
    """Export ``track`` over the saved range, enhance it, import it as a new track aligned to the range.

    Export2 keeps the silence before a track's audio but stops where the audio ends, so the file always
    starts at the range start (and is empty when the range starts after the end: None then).
    """
    name = take_name(track.name, {other.name for other in read_tracks(pipe)})
    source = tmp / f"selection-{track.index}.wav"
    enhanced = tmp / str(track.index) / f"{_file_stem(name)}.wav"  # Audacity names the clip after the file
    enhanced.parent.mkdir()
    if not _export_track(pipe, track, source):
        return None
    enhance_file(source, enhanced)
    with interrupts_deferred():  # Audacity goes on importing if our wait is cut short: finish, then stop
        new_index = len(read_tracks(pipe))
        pipe.command(f"Import2: Filename={quote(enhanced)}")
        if len(read_tracks(pipe)) != new_index + 1:
            raise AudacityError(f"Importing {enhanced} into Audacity did not add exactly one track.")
        pipe.command(f"SetTrack: Track={new_index} Name={quote(name)}")
        _select(pipe, [new_index])
        pipe.command("Align_StartToSelStart:")  # exact, unlike SetClip with a six-digit start time
        on_added(name)
    return name


def take_name(source: str, taken: set[str]) -> str:
    """The new track's name: "<source> (muse_fx)", or "(muse_fx 2)", "(muse_fx 3)"… when the project holds that
    name already, so every take can be told apart."""
    names = (f"{source} (muse_fx{f' {number}' if number > 1 else ''})" for number in itertools.count(1))
    return next(name for name in names if name not in taken)


def _export_track(pipe: AudacityPipe, track: Track, path: Path) -> bool:
    """Export `track` over the range saved by ``SelSave:``; False when the range holds none of its audio."""
    _select(pipe, [track.index])
    pipe.command(f"Export2: Filename={quote(path)} NumChannels={track.channels}")
    return sf.info(path).frames > 0


def _file_stem(name: str) -> str:
    """`name` as a file name on this system: characters it refuses become "_", and it fits in 255 bytes."""
    stem = _REFUSED_IN_FILE_NAMES.sub("_", name).strip(" .") or "track"
    return stem.encode("utf-8")[:200].decode("utf-8", errors="ignore")


def _select(pipe: AudacityPipe, indexes: list[int]) -> None:
    """Select exactly these tracks over the range saved by ``SelSave:``."""
    pipe.command("SelRestore:")
    for position, index in enumerate(indexes):
        pipe.command(f"SelectTracks: Track={index} TrackCount=1 Mode={'Add' if position else 'Set'}")


def _restore_selection(pipe: AudacityPipe, selection: Selection) -> None:
    _select(pipe, [track.index for track in selection.tracks])
    if selection.focus is not None:
        pipe.command(f"SetTrack: Track={selection.focus} Focused=1")


@contextmanager
def _float_wav_export(pipe: AudacityPipe):
    """Export 32-bit float WAV for the duration, so no 16-bit rounding or dither reaches the model."""
    try:
        previous = pipe.command(f"GetPreference: Name={_WAV_ENCODING_PREF}")
    except AudacityCommandError:
        previous = "0"  # never chosen; Audacity reads a missing entry as 0 too
    pipe.command(f"SetPreference: Name={_WAV_ENCODING_PREF} Value={_FLOAT_ENCODING}")
    try:
        yield
    finally:
        pipe.command(f"SetPreference: Name={_WAV_ENCODING_PREF} Value={quote(previous)}")


__all__ = [
    "EnhanceFile",
    "Selection",
    "Track",
    "enhance_selection",
    "export_selection",
    "parse_json",
    "read_selection",
    "read_tracks",
    "take_name",
]
