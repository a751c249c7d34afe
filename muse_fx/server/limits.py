"""Limits and batching of one server: what a request may send and how much work is in flight at once.

A limit declared with `limit(...)` is also a `muse-fx serve` option (cli/serve.py reads `offered_limits`), with
this default and help.
"""

from __future__ import annotations

from dataclasses import Field, dataclass, field, fields
from typing import Any

from muse_fx.settings import default_server_batch


def limit(default: Any, help: str, flag: str | None = None) -> Any:
    """A ServerConfig field that `muse-fx serve` offers as `flag` (else --the-field-name)."""
    return field(default=default, metadata={"help": help, "flag": flag})


@dataclass(frozen=True)
class ServerConfig:
    token: str | None = field(default=None, repr=False)  # bearer token; None only on loopback
    # bytes on the wire, checked while the upload streams in
    max_upload_mb: float = limit(200.0, "Largest upload, MiB.")
    # on average from the start, after a grace of 10 s: a trickling upload must not hold a slot for --timeout
    min_upload_rate: float = limit(
        16.0, "Slowest upload, KiB/s on average after its first 10 s; a slower one gets 408 and frees its slot."
    )
    # audio duration per request, so one user cannot hold the device for hours
    max_seconds: float = limit(900.0, "Longest audio per request.")
    # decoded float32 size: bounds memory whatever the rate, channels or compression
    max_audio_mb: float = limit(512.0, "Largest audio per request once decoded to float32, MiB (bounds memory).")
    # admitted at once (uploading, queued or running)
    max_requests: int = limit(8, "Requests in flight at once; the next gets 503 with Retry-After.")
    # from the first byte of the request to the last chunk enhanced
    request_timeout: float = limit(600.0, "Seconds per request, upload too.", flag="--timeout")
    max_batch: int = default_server_batch("cpu")  # chunks per forward pass (serve --batch-size, default by device)
    retry_after: int = 5  # seconds a 503 tells the client to wait
    max_connections: int = limit(
        1000, "Open connections at once (fewer if `ulimit -n` is lower); the oldest idle ones make room."
    )
    # before a connection's first request too
    idle_timeout: float = limit(5.0, "Seconds a connection may stay open with no request in progress.")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def min_upload_bytes_per_second(self) -> float:
        return self.min_upload_rate * 1024

    @property
    def max_audio_bytes(self) -> int:
        return int(self.max_audio_mb * 1024 * 1024)

    @property
    def request_batch(self) -> int:
        """Chunks one request offers per pass: a quarter of a batch, so at least four requests share a pass."""
        return max(1, self.max_batch // 4)


def offered_limits() -> list[Field]:
    """The fields `muse-fx serve` offers as options, in declaration order."""
    return [each for each in fields(ServerConfig) if "help" in each.metadata]
