"""Enhancement on this machine: a model loaded (on first use) on a device and run by the engine's Enhancer."""

from __future__ import annotations

import os

import torch

from muse_fx.engine.chunking import StreamingOverlapAdd
from muse_fx.engine.feeder import Progress
from muse_fx.engine.muse_model import MuseModel
from muse_fx.engine.pipeline import Enhancer
from muse_fx.engine.weights import load_model
from muse_fx.settings import Settings


class LocalEnhancement:
    """`source` is a registry name, a .safetensors path or a model object; `load=False` waits for first use
    (a MuseEnhance on a server loads its model only to fall back on it)."""

    streams = True

    def __init__(self, source: str | os.PathLike | MuseModel, device: torch.device, load: bool = True):
        self.source, self.device = source, device
        self._model = load_model(source, device) if load else None

    @property
    def model(self) -> MuseModel:
        if self._model is None:
            self._model = load_model(self.source, self.device)
        return self._model

    def move_to(self, device: torch.device) -> None:
        self.device = device
        if self._model is not None:
            self._model = self._model.to(device)

    def enhance(
        self, audio: torch.Tensor, sample_rate: int, settings: Settings, progress: Progress | None = None
    ) -> torch.Tensor:
        return Enhancer(self.model, settings)(audio, sample_rate, progress)

    def stream(self, channels: int, sample_rate: int, settings: Settings) -> StreamingOverlapAdd:
        return Enhancer(self.model, settings).feeder(sample_rate).stream(channels)
