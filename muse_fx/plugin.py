"""MuseEnhance: the one object users meet — a callable enhancer that follows pedalboard's Plugin protocol."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import torch

from .audio import Layout, check_sample_rate, check_samples, detect_layout
from .chunking import StreamingOverlapAdd
from .devices import resolve_device
from .errors import AudioInputError
from .pipeline import MUSECODERS, Enhancer, Settings, chunk_layout
from .weights import load_model

STEP_CHOICES = (6, 50)


def default_musecoder(device: torch.device) -> str:
    """Diffusion where a GPU makes it fast enough; the fast path on CPU (see README, "Choosing a musecoder")."""
    return "fast" if device.type == "cpu" else "diffusion"


class MuseEnhance:
    """Enhance music recordings: `MuseEnhance()(audio, sample_rate)`.

    audio: float32/float64 numpy array, (samples,), (channels, samples) or (samples, channels), ≤ 8 channels,
    any sample rate. Returns float32 of the same shape. Works as a pedalboard-style plugin: `process(...,
    reset=False)` streams block by block, a final call with `reset=True` returns the rest.
    """

    is_effect = True
    is_instrument = False

    def __init__(
        self,
        model: str | os.PathLike = "default",
        musecoder: str | None = None,
        steps: int = 6,
        mix: float = 1.0,
        device: str = "auto",
        seed: int = 0,
        full_band: bool = True,
        batch_size: int | None = None,
    ):
        self._device = resolve_device(device)
        self._device_name = device
        self._model_name = model
        self._model = load_model(model, self._device)
        self.musecoder = musecoder or default_musecoder(self._device)
        self.steps = steps
        self.mix = mix
        self.seed = seed
        self.full_band = bool(full_band)
        self.batch_size = batch_size
        self.reset()

    # -- validated parameters ---------------------------------------------------------------------------------
    @property
    def model(self) -> str:
        return str(self._model_name)

    @model.setter
    def model(self, value: str | os.PathLike) -> None:
        self._model = load_model(value, self._device)
        self._model_name = value
        self.reset()

    @property
    def device(self) -> str:
        return str(self._device)

    @device.setter
    def device(self, value: str) -> None:
        self._device = resolve_device(value)
        self._device_name = value
        self._model = self._model.to(self._device)
        self.reset()

    @property
    def musecoder(self) -> str:
        return self._musecoder

    @musecoder.setter
    def musecoder(self, value: str) -> None:
        if value not in MUSECODERS:
            raise ValueError(f"musecoder must be one of {', '.join(MUSECODERS)}, got {value!r}")
        self._musecoder = value

    @property
    def steps(self) -> int:
        return self._steps

    @steps.setter
    def steps(self, value: int) -> None:
        if value not in STEP_CHOICES:
            raise ValueError(f"steps must be 6 (fast schedule) or 50 (the paper's full chain), got {value!r}")
        self._steps = int(value)

    @property
    def mix(self) -> float:
        return self._mix

    @mix.setter
    def mix(self, value: float) -> None:
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"mix must be between 0.0 (dry) and 1.0 (fully enhanced), got {value!r}")
        self._mix = float(value)

    @property
    def seed(self) -> int:
        return self._seed

    @seed.setter
    def seed(self, value: int) -> None:
        if int(value) != value or value < 0:
            raise ValueError(f"seed must be a non-negative integer, got {value!r}")
        self._seed = int(value)

    @property
    def sample_rate(self) -> int:
        """The model's own rate; any input rate is resampled to it and back."""
        return self._model.sample_rate

    def _enhancer(self) -> Enhancer:
        batch = self.batch_size or (16 if self._device.type != "cpu" else 4 if self.musecoder == "fast" else 1)
        settings = Settings(self.musecoder, self.steps, self.mix, self.seed, self.full_band, batch)
        return Enhancer(self._model, settings)

    # -- offline ----------------------------------------------------------------------------------------------
    def enhance(
        self, audio: np.ndarray, sample_rate: float, progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """Enhance a whole recording at once. `progress(done, total)` counts chunks."""
        layout = detect_layout(np.asarray(audio))
        tensor, rate = self._prepare(audio, sample_rate, layout)
        total = chunk_layout(rate).count(tensor.shape[1]) * tensor.shape[0]
        done = [0]

        def report(n: int) -> None:
            done[0] += n
            progress(done[0], total)

        enhanced = self._enhancer()(tensor, rate, report if progress else None)
        return layout.restore(enhanced.numpy())

    def _prepare(self, audio: np.ndarray, sample_rate: float, layout: Layout) -> tuple[torch.Tensor, int]:
        rate = check_sample_rate(sample_rate)
        samples = check_samples(layout.to_channels_first(np.asarray(audio)))
        return torch.from_numpy(np.ascontiguousarray(samples)), rate

    # -- pedalboard's Plugin protocol -------------------------------------------------------------------------
    def process(
        self, input_array: np.ndarray, sample_rate: float, buffer_size: int = 8192, reset: bool = True
    ) -> np.ndarray:
        """Like pedalboard's `Plugin.process`. With reset=False, output lags input by up to `latency` samples;
        a later call with reset=True (an empty block is fine) returns everything still held."""
        array = np.asarray(input_array)
        if reset and self._stream is None:
            return self.enhance(array, sample_rate)
        layout = detect_layout(array, hint=self._stream_layout)
        tensor, rate = self._prepare(array, sample_rate, layout)
        if self._stream is None:
            self._stream = self._open_stream(tensor.shape[0], rate)
            self._stream_layout, self._stream_rate = layout, rate
        elif (rate, tensor.shape[0]) != (self._stream_rate, self._stream.pending.shape[0]):
            raise AudioInputError(
                f"stream changed from {self._stream.pending.shape[0]} channel(s) at {self._stream_rate} Hz to "
                f"{tensor.shape[0]} at {rate} Hz without reset; call reset() between different recordings"
            )
        with torch.inference_mode():
            out = self._stream.push(tensor)
            if reset:
                out = torch.cat([out, self._stream.flush()], dim=1)
        result_layout = self._stream_layout
        if reset:
            self.reset()
        return result_layout.restore(out.numpy())

    __call__ = process

    def _open_stream(self, channels: int, rate: int) -> StreamingOverlapAdd:
        enhancer = self._enhancer()
        return StreamingOverlapAdd(
            channels,
            lambda chunks, indices: enhancer.process_chunks(chunks, indices, rate),
            chunk_layout(rate),
            batch_size=enhancer.settings.batch_size,
        )

    def reset(self) -> None:
        """Forget any audio held from a stream."""
        self._stream: StreamingOverlapAdd | None = None
        self._stream_layout: Layout | None = None
        self._stream_rate: int | None = None

    @property
    def latency(self) -> int:
        """At most this many samples (at the stream's rate, 44.1 kHz if none yet) are held back while streaming."""
        return chunk_layout(self._stream_rate or 44100).length

    def __repr__(self) -> str:
        return (
            f'<muse_fx.MuseEnhance model="{self.model}" musecoder="{self.musecoder}" steps={self.steps} '
            f'mix={self.mix} device="{self.device}" seed={self.seed} at {hex(id(self))}>'
        )
