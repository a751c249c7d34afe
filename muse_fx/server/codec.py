"""Audio in and out of the server: WAV or FLAC upload → float32 (channels, samples), and back again."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO, BinaryIO

import numpy as np
import soundfile as sf
from fastapi import HTTPException

from muse_fx.io.arrays import MAX_CHANNELS, check_sample_rate, check_samples
from muse_fx.io.audio_files import check_frames, read_frames, truncation

CONTAINERS = {"WAV": "audio/wav", "WAVEX": "audio/wav", "RF64": "audio/wav", "FLAC": "audio/flac"}
INTEGER_SUBTYPES = ("PCM_U8", "PCM_S8", "PCM_16", "PCM_24", "PCM_32")
SPOOL_BYTES = 16 * 1024 * 1024  # larger responses go to a temporary file, not memory


@dataclass(frozen=True)
class Decoded:
    audio: np.ndarray  # (channels, samples) float32
    sample_rate: int
    container: str  # soundfile's format name, e.g. "WAV"
    subtype: str  # e.g. "PCM_16"


def _frame_limit(f: sf.SoundFile, max_seconds: float, max_bytes: int) -> int:
    """The most frames the upload may hold; raises what its header alone shows is wrong, before any decoding."""
    if f.format not in CONTAINERS:
        raise HTTPException(422, f"{f.format_info} files are not accepted; send WAV or FLAC")
    if f.channels > MAX_CHANNELS:
        raise HTTPException(422, f"the upload has {f.channels} channels; at most {MAX_CHANNELS} are handled")
    rate = check_sample_rate(f.samplerate)
    check_frames("the upload", f)
    limit = min(int(max_seconds * rate), max_bytes // (4 * f.channels))
    if f.frames > limit:
        raise _too_long(f, limit, max_seconds, max_bytes)
    return limit


def _too_long(f: sf.SoundFile, limit: int, max_seconds: float, max_bytes: int) -> HTTPException:
    return HTTPException(
        413,
        f"the audio is longer than this server's limit of {limit / f.samplerate:.4g} s for "
        f"{f.channels} channel(s) at {f.samplerate} Hz ({max_seconds:g} s, "
        f"{max_bytes / 2**20:.3g} MiB decoded); split it",
    )


def _check_read(f: sf.SoundFile, read: int, limit: int, max_seconds: float, max_bytes: int) -> None:
    """The frames really read against the limit and the header. The CLI enhances the part of a truncated file that
    is there and warns; the server refuses it with the same words, as a response must match its upload."""
    if read > limit:
        raise _too_long(f, limit, max_seconds, max_bytes)
    if read < f.frames:
        words = truncation("the upload", read / f.samplerate, f.frames / f.samplerate)
        raise HTTPException(422, f"{words}; re-copy or re-export it")


def decode(file: BinaryIO, max_seconds: float, max_bytes: int) -> Decoded:
    """Read an upload; 422 names what is wrong with it, 413 if it is longer than `max_seconds` or would take more
    than `max_bytes` as float32 (a small FLAC of silence can decode to gigabytes). The header is checked before
    decoding, and what is read is checked again, so a lying header cannot make us hold more."""
    try:
        with sf.SoundFile(file) as f:
            limit = _frame_limit(f, max_seconds, max_bytes)
            audio = read_frames(f, limit + 1)
            _check_read(f, audio.shape[1], limit, max_seconds, max_bytes)
            rate, container, subtype = f.samplerate, f.format, f.subtype
    except sf.LibsndfileError as error:
        raise HTTPException(422, f"the upload is not readable audio ({error.error_string}); send WAV or FLAC") from None
    return Decoded(check_samples(audio), rate, container, subtype)


def encode(audio: np.ndarray, like: Decoded, output: str) -> tuple[IO[bytes], str]:
    """(channels, samples) float32 → a rewound file of WAV float32 ("float32") or of the upload's format
    ("same"), and its media type."""
    container, subtype = (like.container, like.subtype) if output == "same" else ("WAV", "FLOAT")
    if subtype in INTEGER_SUBTYPES:
        audio = np.clip(audio, -1.0, 1.0)  # integer PCM would wrap around instead of clipping
    file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    sf.write(file, audio.T, like.sample_rate, subtype=subtype, format=container)
    file.seek(0)
    return file, CONTAINERS[container]
