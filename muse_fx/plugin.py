"""MuseEnhance: the one object users meet — a callable enhancer that follows pedalboard's Plugin protocol."""

from __future__ import annotations

import os

import numpy as np
import torch

from muse_fx.backends.enhancement import Enhancement
from muse_fx.backends.local import LocalEnhancement
from muse_fx.backends.remote import RemoteEnhancement
from muse_fx.engine.chunking import StreamingOverlapAdd
from muse_fx.engine.defaults import default_musecoder, settings_for
from muse_fx.engine.devices import resolve_device
from muse_fx.engine.feeder import Progress, chunk_layout
from muse_fx.errors import AudioInputError
from muse_fx.io.arrays import StreamLayout, prepare
from muse_fx.settings import (
    DEVICE,
    FULL_BAND,
    MIX,
    MODEL,
    MUSECODER,
    PRECISION,
    RENDERING,
    SEED,
    STEPS,
    STRENGTH,
    Checked,
    Settings,
)

SHOWN = (MODEL, MUSECODER, STEPS, MIX, STRENGTH, DEVICE, SEED)  # what repr() shows, in its order


class MuseEnhance:
    """Enhance music recordings: `MuseEnhance()(audio, sample_rate)`.

    audio: float32/float64 numpy array, (samples,), (channels, samples) or (samples, channels), ≤ 8 channels,
    any sample rate. Returns float32 of the same shape. Works as a pedalboard-style plugin: `process(...,
    reset=False)` streams block by block, a final call with `reset=True` returns the rest.

    The work runs on this machine (muse_fx.backends.local) or, with `server`, on a muse-fx server
    (muse_fx.backends.remote); `token` is that server's bearer token (default: $MUSE_FX_TOKEN), never shown by repr().
    """

    is_effect = True
    is_instrument = False
    _stream: StreamingOverlapAdd | None  # the open stream (reset=False), with its input's layout and rate
    _stream_layout: StreamLayout
    _stream_rate: int | None
    steps = Checked[int](STEPS)  # each checked by its declaration in muse_fx.settings whenever it is set
    mix = Checked[float](MIX)
    strength = Checked[float](STRENGTH)
    seed = Checked[int](SEED)
    full_band = Checked[bool](FULL_BAND)
    precision = Checked[str](PRECISION)

    def __init__(
        self,
        model: str | os.PathLike = MODEL.default,
        musecoder: str | None = None,
        steps: int = STEPS.default,
        mix: float = MIX.default,
        device: str = DEVICE.default,
        seed: int = SEED.default,
        full_band: bool = FULL_BAND.default,
        batch_size: int | None = None,
        server: str | None = None,
        fallback_local: bool = False,
        strength: float = STRENGTH.default,
        token: str | None = None,
        precision: str = PRECISION.default,
    ):
        self._device = resolve_device(device)
        self.server = server
        self.fallback_local = fallback_local
        self._token = token
        # With a server, the local model is loaded only if the server is unreachable and fallback was asked for.
        self._local = LocalEnhancement(model, self._device, load=not server)
        self.musecoder = musecoder or default_musecoder(self._device, model)
        self._musecoder_chosen = musecoder is not None  # else a server picks what suits its own device
        self.steps, self.mix, self.strength, self.seed, self.full_band = steps, mix, strength, seed, full_band
        self.batch_size = batch_size  # None: what suits the device and the musecoder
        self.precision = precision
        self._latency_rate = 44100  # until a stream says otherwise
        self.reset()

    # -- validated parameters ---------------------------------------------------------------------------------
    @property
    def model(self) -> str:
        """Registry name or file path; "custom" for a model object passed in directly."""
        source = self._local.source
        return "custom" if isinstance(source, torch.nn.Module) else str(source)

    @model.setter
    def model(self, value: str | os.PathLike) -> None:
        self._local = LocalEnhancement(value, self._device, load=not self.server)
        self.reset()

    @property
    def device(self) -> str:
        return str(self._device)

    @device.setter
    def device(self, value: str) -> None:
        self._device = resolve_device(value)
        self._local.move_to(self._device)
        self.reset()

    @property
    def musecoder(self) -> str:
        return self._musecoder

    @musecoder.setter
    def musecoder(self, value: str) -> None:
        self._musecoder = MUSECODER.check(value)
        self._musecoder_chosen = True

    @property
    def sample_rate(self) -> int:
        """The model's own rate; any input rate is resampled to it and back."""
        return self._local.model.sample_rate

    @property
    def streams(self) -> bool:
        """Whether `process(..., reset=False)` can go block by block: not on a server, which needs whole recordings."""
        return self._enhancement().streams

    def _enhancement(self) -> Enhancement:
        """Where this call runs: the server if one is set (this machine as its fallback if asked for), else here."""
        if self.server:
            fallback = self._local if self.fallback_local else None
            return RemoteEnhancement(self.server, self.model, not self._musecoder_chosen, fallback, self._token)
        return self._local

    def _settings(self) -> Settings:
        values = {setting.name: getattr(self, setting.name) for setting in RENDERING}
        return settings_for(
            self._device, self._local.source, batch_size=self.batch_size, precision=self.precision, **values
        )

    # -- offline ----------------------------------------------------------------------------------------------
    def enhance(self, audio: np.ndarray, sample_rate: float, progress: Progress | None = None) -> np.ndarray:
        """Enhance a whole recording at once. `progress(done, total)` counts seconds of audio."""
        layout, samples, rate = prepare(audio, sample_rate)
        return layout.restore(self._enhance_samples(samples, rate, progress))

    def _enhance_samples(self, samples: np.ndarray, rate: int, progress: Progress | None) -> np.ndarray:
        """(channels, samples) float32 → enhanced, the same shape."""
        if samples.size == 0:  # nothing to enhance; a server refuses empty audio like the CLI does
            return samples
        return self._enhancement().enhance(torch.from_numpy(samples), rate, self._settings(), progress).numpy()

    # -- pedalboard's Plugin protocol -------------------------------------------------------------------------
    def process(
        self, input_array: np.ndarray, sample_rate: float, buffer_size: int = 8192, reset: bool = True
    ) -> np.ndarray:
        """Like pedalboard's `Plugin.process`. With reset=False, output lags input by up to `latency` samples;
        a later call with reset=True (an empty block is fine) returns everything still held."""
        array = np.asarray(input_array)
        layout, samples, rate = self._stream_layout.read(array, sample_rate, final=reset)
        if samples is None:  # too small to tell its layout: held until a block that tells
            return layout.no_samples(array)
        return layout.restore(self.stream_block(samples, rate, final=reset))

    def stream_block(self, samples: np.ndarray, rate: int, final: bool, buffer_size: int = 8192) -> np.ndarray:
        """`process` for a block whose layout is known, (channels, samples) float32 at `rate` Hz, as a muse_fx
        board hands on its blocks. A `final` block with no stream open is a whole recording."""
        if final and self._stream is None:
            self.reset()  # the layout read from it is not kept
            return self._enhance_samples(samples, rate, None)
        tensor = torch.from_numpy(samples)
        if self._stream is None:
            self._stream = self._enhancement().stream(tensor.shape[0], rate, self._settings())
            self._stream_rate = rate
            self._latency_rate = rate
        elif (rate, tensor.shape[0]) != (self._stream_rate, self._stream.pending.shape[0]):
            raise AudioInputError(
                f"stream changed from {self._stream.pending.shape[0]} channel(s) at {self._stream_rate} Hz to "
                f"{tensor.shape[0]} at {rate} Hz without reset; call reset() between different recordings"
            )
        with torch.inference_mode():
            out = self._stream.push(tensor)
            if final:
                out = torch.cat([out, self._stream.flush()], dim=1)
        if final:
            self.reset()
        return out.numpy()

    __call__ = process

    def reset(self) -> None:
        """Forget any audio held from a stream."""
        self._stream, self._stream_layout, self._stream_rate = None, StreamLayout(), None

    @property
    def latency(self) -> int:
        """At most this many samples (at the last stream's rate, 44.1 kHz before any) are held back while streaming:
        one chunk, 2.944 s. Output sample t is returned by the push that brings the input to sample t + latency."""
        return chunk_layout(self._latency_rate).length

    reported_latency_samples = latency  # pedalboard's name for it (VST3Plugin), for hosts that compensate

    def __repr__(self) -> str:
        shown = " ".join(_shown(setting.name, getattr(self, setting.name)) for setting in SHOWN)
        server = f' server="{self.server}"' if self.server else ""
        return f"<muse_fx.MuseEnhance {shown}{server} at {hex(id(self))}>"


def _shown(name: str, value: object) -> str:
    """`name="text"` or `name=number`, as repr() shows a setting."""
    return f'{name}="{value}"' if isinstance(value, str) else f"{name}={value}"
