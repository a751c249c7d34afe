"""The one chunk feeder: how every entry point (the tensor API, the streaming plugin, the server) cuts audio into
chunks for the model, and the one unit progress is reported in: seconds of input audio.

Chunks are CHUNK_SECONDS long at the audio's own rate and overlap by OVERLAP; `chunking` does the overlap-add.
Because the layout depends only on the sample rate, and each chunk's diffusion noise only on its index, the same
input gives the same output through every entry point, whole or streamed.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from muse_fx.engine.chunking import ChunkLayout, ChunkProcess, StreamingOverlapAdd, overlap_add
from muse_fx.io.arrays import check_finite

CHUNK_SECONDS = 2.944  # 46 × 1024 samples at 16 kHz, close to the paper's 47360-sample chunks
OVERLAP = 0.25

Progress = Callable[[float, float], None]
"""`progress(done, total)`: seconds of input audio enhanced so far, of the recording's total."""


def _finite_only(process: ChunkProcess) -> ChunkProcess:
    """`process`, stopped where it makes NaN or Inf. Its input was checked finite and within MAX_PEAK, so that is
    a fault of the model or of muse-fx, never of the recording."""

    def checked(chunks: torch.Tensor, indices: list[int]) -> torch.Tensor:
        processed = process(chunks, indices)
        check_finite(
            processed,
            lambda: "the enhancement model",
            "this is a bug in muse-fx or in the model file, not in your audio — please report it with the settings "
            "used (and the file, if you can share it)",
        )
        return processed

    return checked


def chunk_layout(sample_rate: int) -> ChunkLayout:
    length = max(1, round(CHUNK_SECONDS * sample_rate))
    return ChunkLayout(length=length, hop=max(1, round(length * (1 - OVERLAP))))


class ChunkFeeder:
    """Feeds (channels, samples) audio at `sample_rate` Hz to `process`, `batch_size` chunks at a time, whole
    (`feeder(audio)`) or block by block (`feeder.stream(channels)`)."""

    def __init__(self, process: ChunkProcess, sample_rate: int, batch_size: int):
        self.process, self.sample_rate, self.batch_size = _finite_only(process), sample_rate, batch_size
        self.layout = chunk_layout(sample_rate)

    def __call__(self, audio: torch.Tensor, progress: Progress | None = None) -> torch.Tensor:
        """(channels, samples) → processed (channels, samples); `progress(done, total)` in seconds of audio."""
        process = self.process if progress is None else self._reporting(audio.shape, progress)
        return overlap_add(audio, process, self.layout, batch_size=self.batch_size)

    def stream(self, channels: int) -> StreamingOverlapAdd:
        """Block by block: `push` returns the output no later chunk can change, `flush` the rest."""
        return StreamingOverlapAdd(channels, self.process, self.layout, batch_size=self.batch_size)

    def _reporting(self, shape: torch.Size, progress: Progress) -> ChunkProcess:
        """`process`, reporting progress after each call: chunk k accounts for the samples from its start to the
        next chunk's (the last one to the end), so the count reaches the total exactly, whatever the overlap."""
        total = shape[1]
        hop, last = self.layout.hop, self.layout.count(total) - 1
        done = 0  # samples per channel

        def process(chunks: torch.Tensor, indices: list[int]) -> torch.Tensor:
            nonlocal done
            processed = self.process(chunks, indices)
            done += sum((total if index == last else (index + 1) * hop) - index * hop for index in indices)
            progress(done / self.sample_rate, total / self.sample_rate)
            return processed

        return process
