"""Overlap-add over fixed chunks, the one routine every entry point uses for long audio.

Chunks start every `hop` samples and are `length` long; the last one ends exactly at the end of the signal
(it is shorter, never padded), so no tail is dropped and the layout of chunk k never depends on what comes after
it — which is what lets the streaming plugin reproduce the offline result. Each chunk's output is weighted by a
triangle (as in demucs) and the sum is divided by the summed weights, so an identity process reproduces the
input exactly and there are no level jumps where chunks meet.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

ChunkProcess = Callable[[torch.Tensor, list[int]], torch.Tensor]
"""(B, channels, L) chunks and their indices → (B, channels, L) processed chunks. A chunk holds every channel of
its stretch of time, so a process may treat the channels together (the engine's stereo link does)."""


@dataclass(frozen=True)
class ChunkLayout:
    length: int
    hop: int

    def __post_init__(self):
        if not 0 < self.hop <= self.length:
            raise ValueError(f"need 0 < hop ≤ length, got hop={self.hop}, length={self.length}")

    def count(self, total: int) -> int:
        """Number of chunks covering `total` samples (0 for empty input)."""
        if total <= 0:
            return 0
        return 1 + max(0, math.ceil((total - self.length) / self.hop))

    def span(self, index: int, total: int) -> tuple[int, int]:
        start = index * self.hop
        return start, min(start + self.length, total)

    def is_complete(self, index: int, available: int) -> bool:
        """Whether chunk `index` is final given `available` samples, whatever else arrives later."""
        return index * self.hop + self.length <= available


def triangle(length: int, device: torch.device | None = None) -> torch.Tensor:
    """Strictly positive triangular weights peaking at the chunk's centre."""
    ramp = torch.arange(length, device=device, dtype=torch.float32)
    return torch.minimum(ramp + 1, length - ramp) / ((length + 1) // 2)


def batched(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class StreamingOverlapAdd:
    """Overlap-add fed block by block: `push` returns the audio that no later chunk can change, `flush` the rest.

    Input is kept only from the first chunk not yet processed, so memory is bounded by a chunk plus a block.
    """

    def __init__(
        self,
        channels: int,
        process: ChunkProcess,
        layout: ChunkLayout,
        batch_size: int = 4,
    ):
        self.process, self.layout, self.batch_size = process, layout, batch_size
        self.pending = torch.zeros(channels, 0)  # input from sample `base` on
        self.output = torch.zeros(channels, 0)  # weighted output sum from `base` on
        self.weights = torch.zeros(0)
        self.base = 0
        self.received = 0
        self.next_chunk = 0

    def _run(self, indices: list[int], total: int) -> None:
        end_needed = max(self.layout.span(i, total)[1] for i in indices) - self.base
        if self.output.shape[1] < end_needed:
            grow = end_needed - self.output.shape[1]
            self.output = torch.cat([self.output, self.output.new_zeros(self.output.shape[0], grow)], dim=1)
            self.weights = torch.cat([self.weights, self.weights.new_zeros(grow)])
        channels = self.pending.shape[0]
        if not channels:  # nothing to process: the (0, samples) output only needs its length
            return
        # A chunk carries every channel, so a pass holds about `batch_size` single-channel chunks.
        per_pass = max(1, self.batch_size // channels)
        for batch in batched(indices, per_pass):
            spans = [self.layout.span(index, total) for index in batch]
            for length in {end - start for start, end in spans}:  # only the signal's last chunk is shorter
                same = [(index, span) for index, span in zip(batch, spans) if span[1] - span[0] == length]
                chunks = torch.stack([self.pending[:, s - self.base : e - self.base] for _, (s, e) in same])
                processed = self.process(chunks, [index for index, _ in same]).to(self.output.dtype)
                window = triangle(length).to(self.output.dtype)
                for (_, (start, end)), out in zip(same, processed):
                    self.output[:, start - self.base : end - self.base] += window * out.cpu()
                    self.weights[start - self.base : end - self.base] += window

    def _emit(self, upto: int) -> torch.Tensor:
        count = upto - self.base
        ready = self.output[:, :count] / self.weights[:count].clamp_min(torch.finfo(self.output.dtype).tiny)
        self.output, self.weights = self.output[:, count:], self.weights[count:]
        self.pending = self.pending[:, count:]
        self.base = upto
        return ready

    def push(self, block: torch.Tensor) -> torch.Tensor:
        """(channels, n) → (channels, m) finished output; m can be 0 while the first chunk fills."""
        self.pending = torch.cat([self.pending, block.to(self.pending.dtype)], dim=1)
        self.received += block.shape[1]
        complete: list[int] = []
        while self.layout.is_complete(self.next_chunk + len(complete), self.received):
            complete.append(self.next_chunk + len(complete))
        if complete:
            self._run(complete, self.received)
            self.next_chunk += len(complete)
        return self._emit(min(self.next_chunk * self.layout.hop, self.received))

    def flush(self) -> torch.Tensor:
        """Process what is left, ending the last chunk at the end of the input; returns the remaining output."""
        remaining = list(range(self.next_chunk, self.layout.count(self.received)))
        if remaining:
            self._run(remaining, self.received)
            self.next_chunk += len(remaining)
        return self._emit(self.received)


def overlap_add(audio: torch.Tensor, process: ChunkProcess, layout: ChunkLayout, batch_size: int = 4) -> torch.Tensor:
    """Apply `process` chunk by chunk to (channels, samples) audio; returns the same shape.

    Chunks go through `process` about `batch_size` channel-chunks at a time, so the model's memory depends on the
    batch, not on the file's length.
    """
    stream = StreamingOverlapAdd(audio.shape[0], process, layout, batch_size)
    return torch.cat([stream.push(audio), stream.flush()], dim=1)
