"""One request's work, run in a worker thread: decode, feed the chunks through the shared batcher, encode."""

from __future__ import annotations

import threading
import time
from typing import IO, BinaryIO

import torch

from muse_fx.engine.feeder import ChunkFeeder
from muse_fx.server.batcher import Batcher, BatchKey
from muse_fx.server.codec import decode, encode
from muse_fx.server.limits import ServerConfig
from muse_fx.server.params import EnhanceParams
from muse_fx.settings import Settings


class Cancelled(Exception):
    """The client hung up; its remaining chunks are not worth a forward pass."""


def enhance_audio(
    audio: torch.Tensor,
    sample_rate: int,
    model: str,
    settings: Settings,
    batcher: Batcher,
    deadline: float,
    cancelled: threading.Event,
) -> torch.Tensor:
    """(channels, samples) → enhanced, same shape; each chunk batch waits its turn in `batcher`.

    Raises TimeoutError once time.monotonic() passes `deadline`, Cancelled once `cancelled` is set.
    """

    def process(chunks: torch.Tensor, indices: list[int]) -> torch.Tensor:
        if cancelled.is_set():
            raise Cancelled()
        future = batcher.submit(
            BatchKey(model, sample_rate, (chunks.shape[1], chunks.shape[2]), settings), chunks, indices
        )
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            future.cancel()  # still queued: the batcher skips it
            raise

    return ChunkFeeder(process, sample_rate, settings.batch_size)(audio)


def enhance_upload(
    file: BinaryIO,
    params: EnhanceParams,
    batcher: Batcher,
    config: ServerConfig,
    deadline: float,
    cancelled: threading.Event,
) -> tuple[IO[bytes], str]:
    """An uploaded WAV/FLAC file → (enhanced file, media type) with the same rate, channels and length."""
    decoded = decode(file, config.max_seconds, config.max_audio_bytes)
    audio = torch.from_numpy(decoded.audio)
    enhanced = enhance_audio(audio, decoded.sample_rate, params.model, params.settings, batcher, deadline, cancelled)
    return encode(enhanced.numpy(), decoded, params.output)
