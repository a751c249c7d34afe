"""Where enhancement runs, behind one small interface: on this machine (`local.LocalEnhancement`) or on a
muse-fx server (`remote.RemoteEnhancement`). `MuseEnhance` picks one per call; the rest of muse_fx asks
`streams` instead of knowing which."""

from __future__ import annotations

from typing import Protocol

import torch

from muse_fx.engine.chunking import StreamingOverlapAdd
from muse_fx.engine.feeder import Progress
from muse_fx.settings import Settings


class Enhancement(Protocol):
    """Audio is (channels, samples) float32 at `sample_rate` Hz, already checked (muse_fx.io.arrays.prepare)."""

    @property
    def streams(self) -> bool:
        """Whether `stream` works: a server needs whole recordings."""
        ...

    def enhance(
        self, audio: torch.Tensor, sample_rate: int, settings: Settings, progress: Progress | None = None
    ) -> torch.Tensor:
        """A whole recording → enhanced (channels, samples); `progress(done, total)` in seconds of audio."""
        ...

    def stream(self, channels: int, sample_rate: int, settings: Settings) -> StreamingOverlapAdd:
        """Block-by-block enhancement; raises AudioInputError where `streams` is False."""
        ...
