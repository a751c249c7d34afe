"""Reading and writing audio files without ever losing what the user had.

Writes go to a hidden temp file in the target folder and are renamed into place only when complete, so an
error or Ctrl-C leaves either the old file or the new one, never a truncated one.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Collection, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile

from muse_fx.errors import AudioInputError, MuseFxError
from muse_fx.io.arrays import AudioInfo
from muse_fx.io.atomic import atomic_path

SOUNDFILE_READABLE = (".wav", ".flac", ".aiff", ".aif", ".ogg", ".mp3")
# Phone recordings, Opus and the sound of videos: decoded with PyAV (muse_fx.io.decode), written as DECODED_OUTPUT.
DECODED = (".m4a", ".aac", ".opus", ".amr", ".3gp", ".wma", ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")
READABLE = SOUNDFILE_READABLE + DECODED
# MP3's samples come from PyAV too; its header facts, and so its output format, from libsndfile. python-soundfile
# seeks after every read, and each seek restarts libsndfile's MP3 decoder: 55 ms of silence and fade-in where one
# block ends. libsndfile also trusts the length the Xing header gives (half of a cut file is missing) or guesses
# one without it (a third of a 3 s file was read).
SAMPLES_DECODED = (*DECODED, ".mp3")
DECODED_OUTPUT = "FLAC"  # lossless and half WAV's size; every DAW and phone plays it
FORMATS = {"wav": "WAV", "flac": "FLAC", "aiff": "AIFF", "ogg": "OGG", "mp3": "MP3"}
# libsndfile notes "(should be N)" where a chunk's declared size exceeds the bytes present; 4294967295 (0xFFFFFFFF)
# is not a size but "length unknown", written by encoders streaming to a pipe (e.g. ffmpeg).
TRUNCATED = re.compile(r"^\s*(data|SSND)\s*:\s*(?!4294967295\b)\d+.*should be", re.MULTILINE)
# libsndfile's note on an Ogg file that stops before its encoder finished: the last page has no end-of-stream mark.
UNFINISHED_OGG = re.compile(r"^Ogg: Last page lacks an end-of-stream bit", re.MULTILINE)
UNKNOWN_LENGTH = 2**63 - 1  # libsndfile's frame count for a FLAC whose header gives none, as one encoded to a pipe
EXTENSIONS = {"WAV": ".wav", "FLAC": ".flac", "AIFF": ".aiff", "OGG": ".ogg", "MP3": ".mp3"}
# Encodings that only their own containers hold. libsndfile's format check accepts MP3 data in a WAV, but
# writing one fails, so decoded MP3/Vorbis/Opus audio goes into WAV, AIFF or FLAC as COMPRESSED_TO_PCM.
COMPRESSED = {"MPEG_LAYER_I": "MP3", "MPEG_LAYER_II": "MP3", "MPEG_LAYER_III": "MP3", "VORBIS": "OGG", "OPUS": "OGG"}
COMPRESSED_TO_PCM = "PCM_24"


class OutputError(MuseFxError):
    """The output path cannot be written as asked."""


class Header(Protocol):
    """What soundfile.info() and an open soundfile.SoundFile both tell about a file."""

    frames: int
    samplerate: int
    extra_info: str


def probe(path: Path) -> AudioInfo:
    """Header facts about an audio file, or an AudioInputError that says what is wrong with it."""
    if not path.exists():
        raise AudioInputError(f"{path}: file not found; check the path")
    if path.is_dir():
        raise AudioInputError(f"{path}: is a folder, not an audio file")
    if not path.is_file():
        raise AudioInputError(f"{path}: not a regular file (a pipe, device or socket); save the audio to a file first")
    if path.stat().st_size == 0:
        raise AudioInputError(f"{path}: file is empty (0 bytes); re-export or re-copy the recording")
    if path.suffix.lower() not in READABLE:
        raise AudioInputError(
            f"{path}: unsupported format {path.suffix or '(no extension)'}; muse-fx reads "
            f"{', '.join(e.lstrip('.').upper() for e in READABLE)} — convert it first (e.g. with ffmpeg)"
        )
    if path.suffix.lower() in DECODED:
        from muse_fx.io.decode import probe_decoded

        decoded = probe_decoded(path)
        _check_has_audio(path, decoded.frames)
        return decoded
    try:
        info = soundfile.info(native(path))
    except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
        raise AudioInputError(
            f"{path}: not a readable audio file ({error}); it may be corrupt or mislabelled"
        ) from None
    check_frames(str(path), info)
    facts = AudioInfo(int(info.samplerate), info.channels, info.frames, info.format, info.subtype)
    if path.suffix.lower() == ".mp3":
        return _counted_mp3(path, facts)
    return replace(facts, truncated=bool(UNFINISHED_OGG.search(info.extra_info)))


def _counted_mp3(path: Path, header: AudioInfo) -> AudioInfo:
    """`header`, with the frames PyAV really decodes; truncated where they fall short of what the header gives."""
    from muse_fx.io.decode import probe_decoded

    frames = probe_decoded(path).frames
    _check_has_audio(path, frames)
    if frames < header.frames:
        return replace(header, frames=frames, truncated=True, promised=header.frames)
    return replace(header, frames=frames)


def check_frames(name: str, info: Header) -> None:
    """Refuse a file that holds no audio or is cut short; the CLI and the server share this check and its words.

    `name` says which file: a path, or "the upload".
    """
    _check_has_audio(name, info.frames)
    if info.frames >= UNKNOWN_LENGTH:
        raise AudioInputError(
            f"{name}: its header does not give its length (encoded to a pipe?), so it cannot be read to the end; "
            "re-encode it to a file, e.g. `ffmpeg -i IN OUT.flac`"
        )
    if TRUNCATED.search(info.extra_info):
        raise AudioInputError(
            f"{name}: is truncated — its header promises more audio than the file holds "
            f"({info.frames / info.samplerate:.2f} s present); re-copy or re-export it"
        )


def truncation(name: str | Path, ends_at: float, promised: float | None = None) -> str:
    """The words for audio that stops before its file says it should, `ends_at` and `promised` in seconds; the CLI
    warns with them and the server refuses with them."""
    short_of = f"before the {promised:.2f} s its header gives" if promised else "without the end mark of a whole file"
    return f"{name}: is truncated — its audio ends at {ends_at:.2f} s, {short_of}"


def cut_short(path: Path, info: AudioInfo, first: int, wanted: int, read: int) -> str | None:
    """`truncation`'s words if fewer than the `wanted` frames from `first` could be `read`, or if a truncated file
    was read to its end; else None."""
    rate = info.sample_rate
    if read < wanted:
        return truncation(path, (first + read) / rate, info.frames / rate)
    if info.truncated and first + read == info.frames:
        return truncation(path, info.frames / rate, info.promised / rate if info.promised else None)
    return None


def _check_has_audio(name: str | Path, frames: int) -> None:
    if frames <= 0:
        raise AudioInputError(f"{name}: holds no audio (0 samples); re-export the recording")


def native(path: Path) -> str | bytes:
    """`path` as libsndfile takes it: bytes on POSIX, so names that are not valid UTF-8 open too."""
    return str(path) if sys.platform == "win32" else os.fsencode(path)


def span(path: Path, info: AudioInfo, start: float, duration: float | None) -> tuple[int, int]:
    """`start`/`duration` seconds → (first frame, frame count) inside the file; a start past its end is an error."""
    first = int(round(start * info.sample_rate))
    if not 0 <= first < info.frames:
        raise AudioInputError(
            f"{path}: start {start:.3f} s lies outside the file (length {info.frames / info.sample_rate:.3f} s)"
        )
    count = info.frames - first if duration is None else max(1, int(round(duration * info.sample_rate)))
    return first, min(count, info.frames - first)


def read_blocks(path: Path, first: int, count: int, size: int) -> Iterator[np.ndarray]:
    """(channels, n) float32 blocks of `count` frames from `first`, or fewer where the audio really ends sooner (a
    truncated file: callers compare what came with `count`); a read error mid-file names the file."""
    if path.suffix.lower() in SAMPLES_DECODED:
        from muse_fx.io.decode import read_decoded

        yield from read_decoded(path, first, count, size)
        return
    try:
        with soundfile.SoundFile(native(path)) as f:
            f.seek(first)
            yield from _blocks(f, count, size)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
        raise AudioInputError(
            f"{path}: reading failed part-way ({error}); the file is probably truncated or corrupt"
        ) from None


def _blocks(f: soundfile.SoundFile, count: int, size: int) -> Iterator[np.ndarray]:
    """Up to `count` frames of `f` in blocks of `size`; a short read ends them. soundfile's own blocks() hands back
    its whole reused buffer after a short read, so a file ending before its header said (a cut MP3, when libsndfile
    read them) came out with earlier audio repeated where the missing part should be."""
    while count > 0:
        wanted = min(size, count)
        block = f.read(wanted, dtype="float32", always_2d=True)
        if len(block):
            yield np.ascontiguousarray(block.T)
        if len(block) < wanted:
            return
        count -= wanted


def read_audio(path: Path, start: float = 0.0, duration: float | None = None) -> tuple[np.ndarray, AudioInfo]:
    """(channels, samples) float32 and the file's info; `start`/`duration` in seconds select a part; only the
    samples really there, so a truncated file gives fewer than its info's frames."""
    info = probe(path)
    first, count = span(path, info, start, duration)
    return read_part(path, info, first, count), info


def read_part(path: Path, info: AudioInfo, first: int, count: int) -> np.ndarray:
    """(channels, n) float32: `count` frames from `first`, or fewer where a truncated file really ends."""
    return next(read_blocks(path, first, count, count), np.zeros((info.channels, 0), np.float32))


def read_frames(f: soundfile.SoundFile, count: int) -> np.ndarray:
    """(channels, n) float32: up to `count` frames of an open file (the server's uploads), as `read_blocks` reads."""
    return next(_blocks(f, count, count), np.zeros((f.channels, 0), np.float32))


def output_format(path: Path, requested: str | None, fallback: str) -> str:
    """The format asked for, else the one the output's extension names, else the input's (if writable)."""
    if requested:
        return FORMATS[requested.lower()]
    extension = ".aiff" if path.suffix.lower() == ".aif" else path.suffix.lower()
    if extension in DECODED:
        raise OutputError(
            f"{path}: muse-fx reads {extension} but cannot write it; name the output {', '.join(EXTENSIONS.values())}"
        )
    by_extension = {ext: fmt for fmt, ext in EXTENSIONS.items()}
    return by_extension.get(extension, fallback if fallback in EXTENSIONS else DECODED_OUTPUT)


def output_extension(source: Path) -> str:
    """The extension of an output written beside or named after `source`: its own where muse-fx writes it."""
    return source.suffix if source.suffix.lower() not in DECODED else EXTENSIONS[DECODED_OUTPUT]


def _storable(fmt: str, subtype: str) -> bool:
    return soundfile.check_format(fmt, subtype) and COMPRESSED.get(subtype, fmt) == fmt


def choose_subtype(fmt: str, requested: str | None, source_subtype: str) -> str:
    """The source's bit depth where the target format can store it, else 24-bit PCM, else the format's default."""
    if requested:
        subtype = requested.upper()
        if not _storable(fmt, subtype):
            valid = ", ".join(soundfile.available_subtypes(fmt))
            raise OutputError(f"subtype {requested} cannot be written as {fmt}; valid: {valid}")
        return subtype
    for subtype in (source_subtype, COMPRESSED_TO_PCM):
        if _storable(fmt, subtype):
            return subtype
    return soundfile.default_subtype(fmt)


def check_writable(path: Path, overwrite: bool, inputs: Collection[Path] = ()) -> None:
    resolved = path.resolve()
    if resolved in {p.resolve() for p in inputs}:
        raise OutputError(f"{path}: output would replace its own input; choose another output name or folder")
    if path.is_dir():
        raise OutputError(f"{path}: output path is a folder; give a file name, or use --output-dir for folders")
    if path.exists() and not overwrite:
        raise OutputError(f"{path}: already exists; pass --overwrite to replace it")
    check_folder(path)


def check_folder(path: Path, instead: str = "choose another output folder") -> None:
    """`path` can be created: its folder exists and may be written to. Else an OutputError saying which folder,
    and `instead` what to do."""
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist; create it first")
    if not os.access(path.parent, os.W_OK):
        raise OutputError(f"{path}: folder {path.parent} is not writable; {instead}")


def write_audio(path: Path, audio: np.ndarray, sample_rate: int, fmt: str, subtype: str) -> None:
    """(channels, samples) float → file, atomically."""
    try:
        with atomic_path(path) as tmp:
            soundfile.write(native(tmp), audio.T, sample_rate, format=fmt, subtype=subtype)
    except (OSError, soundfile.LibsndfileError, RuntimeError) as error:
        raise OutputError(
            f"{path}: could not be written ({error}); check the folder's permissions and free space"
        ) from None
