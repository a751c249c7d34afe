"""Limits and batching of one server: what a request may send and how much work is in flight at once."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class ServerConfig:
    token: str | None = field(default=None, repr=False)  # bearer token; None only on loopback
    max_upload_mb: float = 200.0  # bytes on the wire, checked while the upload streams in
    max_seconds: float = 900.0  # audio duration per request, so one user cannot hold the device for hours
    max_audio_mb: float = 512.0  # decoded float32 size: bounds memory whatever the rate, channels or compression
    max_requests: int = 8  # admitted at once (uploading, queued or running); the next one gets 503
    request_timeout: float = 600.0  # seconds from the first byte of the request to the last chunk enhanced
    max_batch: int = 8  # chunks per forward pass
    retry_after: int = 5  # seconds a 503 tells the client to wait
    max_connections: int = 1000  # open at once, fewer if `ulimit -n` is lower; the oldest idle ones make room
    idle_timeout: float = 5.0  # seconds a connection may wait without a request in progress, before its first one too

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_audio_bytes(self) -> int:
        return int(self.max_audio_mb * 1024 * 1024)

    @property
    def request_batch(self) -> int:
        """Chunks one request offers per pass: a quarter of a batch, so at least four requests share a pass."""
        return max(1, self.max_batch // 4)


def default_batch(device: torch.device) -> int:
    """A GPU's pass costs about the same for 32 chunks as for 1; a CPU's grows with the batch."""
    return 32 if device.type == "cuda" else 8
