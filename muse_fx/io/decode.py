"""Audio that libsndfile cannot read, through PyAV: phone recordings (M4A/AAC, AMR), Opus, and the sound of videos.

PyAV's wheels ship FFmpeg, so nothing beyond muse-fx needs installing. A compressed stream knows its length
only roughly, so probing decodes it once to count samples exactly; reading decodes it again as a stream, so
memory stays bounded whatever the length. Files are opened by Python and handed over as file objects, which
keeps names that are not valid UTF-8 working.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from muse_fx.errors import AudioInputError
from muse_fx.io.arrays import AudioInfo


@contextlib.contextmanager
def _audio_stream(path: Path) -> Iterator[tuple[av.container.InputContainer, av.audio.AudioStream]]:
    """The first audio stream of `path`; FFmpeg's errors, here or in the caller's block, name the file."""
    try:
        with open(path, "rb") as file, av.open(file, "r") as container:
            if not container.streams.audio:
                raise AudioInputError(f"{path}: holds no audio stream (a silent video?); nothing to enhance")
            yield container, container.streams.audio[0]
    except av.FFmpegError as error:
        raise AudioInputError(f"{path}: not a readable audio or video file ({error}); it may be corrupt") from None


@dataclass
class _Timeline:
    """Where a stream's decoded audio starts and its packets end, in its time base. An AAC encoder pads its last
    frame to 1024 samples and FFmpeg decodes the padding too (issue 25 found 42 samples too many); the MP4's
    timestamps, kept to the sample, give the recording's true length."""

    start: int | None = None
    end: int | None = None

    def saw(self, packet: av.Packet) -> None:
        if packet.pts is not None and packet.duration:
            self.end = max(self.end or 0, packet.pts + packet.duration)

    def decoded(self, frame: av.AudioFrame) -> None:
        if self.start is None:
            self.start = frame.pts

    def length(self, stream: av.audio.AudioStream) -> int | None:
        """Samples from the first decoded one to the end of the last packet; None unless a tick is whole samples."""
        samples_per_tick = stream.time_base * stream.rate if stream.time_base else None
        if self.start is None or self.end is None or samples_per_tick is None or samples_per_tick.denominator != 1:
            return None
        return int((self.end - self.start) * samples_per_tick)


def _decoded(
    container: av.container.InputContainer, stream: av.audio.AudioStream, timeline: _Timeline | None = None
) -> Iterator[np.ndarray]:
    """(channels, n) float32 arrays, in whatever sample format the codec decodes to; `timeline` notes the times."""
    timeline = timeline or _Timeline()
    planar = av.AudioResampler(format="fltp", layout=stream.layout, rate=stream.rate)
    for packet in container.demux(stream):
        timeline.saw(packet)
        for frame in packet.decode():
            timeline.decoded(frame)
            for converted in planar.resample(frame):
                yield converted.to_ndarray()
    for converted in planar.resample(None):
        yield converted.to_ndarray()


def probe_decoded(path: Path) -> AudioInfo:
    """The stream's facts, its length counted by decoding it, less any padding its timestamps leave out."""
    with _audio_stream(path) as (container, stream):
        timeline = _Timeline()
        decoded = sum(chunk.shape[1] for chunk in _decoded(container, stream, timeline))
        frames = min(decoded, timeline.length(stream) or decoded)
        container_name = container.format.name.split(",")[0].upper()
        return AudioInfo(stream.rate, stream.channels, frames, container_name, stream.codec_context.name.upper())


def read_decoded(path: Path, first: int, count: int, size: int) -> Iterator[np.ndarray]:
    """(channels, n) float32 blocks of `size` frames, `count` frames from frame `first`, like `read_blocks`."""
    with _audio_stream(path) as (container, stream):
        yield from _reblock(_decoded(container, stream), first, count, size)


def _reblock(chunks: Iterator[np.ndarray], first: int, count: int, size: int) -> Iterator[np.ndarray]:
    pending: list[np.ndarray] = []
    held = 0
    for chunk in chunks:
        skipped = min(first, chunk.shape[1])
        first -= skipped
        chunk = chunk[:, skipped : skipped + count]
        count -= chunk.shape[1]
        pending.append(chunk)
        held += chunk.shape[1]
        while held >= size:
            joined = np.concatenate(pending, axis=1)
            yield np.ascontiguousarray(joined[:, :size])
            pending, held = [joined[:, size:]], held - size
        if count == 0:
            break
    if held:
        yield np.concatenate(pending, axis=1)
