"""Enhancement of audio at any sample rate, length and channel count with one loaded model.

Per chunk: resample to the model rate → log-mel → mel2mel → musecoder (fast gain, or diffusion followed by a mel
match) → resample back → recombine the band above the model's Nyquist from the input → dry/wet mix.
`feeder.ChunkFeeder` cuts and stitches the chunks; every step is sample-aligned with the input, so the mix cannot
comb-filter.
"""

from __future__ import annotations

import os
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

from muse_fx.engine import diffusion
from muse_fx.engine.bandsplit import recombine_high_band
from muse_fx.engine.defaults import settings_for
from muse_fx.engine.devices import generator_dtype, resolve_device
from muse_fx.engine.fast_path import gain_stft, limit_attenuation, match_mel
from muse_fx.engine.feeder import ChunkFeeder, Progress
from muse_fx.engine.muse_model import MuseModel
from muse_fx.engine.resampling import resample
from muse_fx.engine.stereo_link import generate_linked
from muse_fx.engine.weights import load_model
from muse_fx.errors import AudioInputError, ModelError
from muse_fx.io.arrays import check_sample_rate
from muse_fx.settings import Settings

MEL_MATCH_PASSES = 3  # diffusion output → enhanced mel; paper-val gains per pass shrink fast (see the model card)


def chunk_seed(seed: int, index: int) -> int:
    """Chunk `index`'s diffusion seed: (seed, index) mixed into 64 bits, so any seed is valid and no two pairs
    share noise (a linear formula overflowed torch's 64-bit seed for large seeds)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0])


class Enhancer:
    """A model on a device plus settings; call it on (channels, samples) float tensors.

    >>> enhancer = Enhancer.from_pretrained("default", device="cpu")
    >>> clean = enhancer(torch.randn(2, 44100) * 0.1, 44100)  # (channels, samples) in, the same shape out
    """

    def __init__(self, model: MuseModel, settings: Settings):
        if settings.musecoder == "diffusion" and model.musecoder is None:
            refused = "this model has no musecoder (it renders with the fast path only); use"
            raise ModelError(
                f"{refused} musecoder='fast', or a model with one, such as model='cpu-small'",
                command_line=f"{refused} --musecoder fast, or a model with one, such as --model cpu-small",
            )
        self.model = model
        self.settings = settings
        self.device = next(model.parameters()).device

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike = "default",
        device: str | torch.device = "auto",
        musecoder: str | None = None,
        batch_size: int | None = None,
        **settings,
    ) -> Enhancer:
        """A bundled model by name (`muse-fx models list`) or a .safetensors file, loaded on `device`.

        `settings` are `Settings` fields (steps, mix, strength, seed, full_band); the musecoder and batch size
        left out follow the model and the device (README, "Choosing a musecoder").
        """
        torch_device = resolve_device(device)
        chosen = settings_for(torch_device, name_or_path, musecoder, batch_size, **settings)
        return cls(load_model(name_or_path, torch_device), chosen)

    def _at_model_rate(self, audio: torch.Tensor, indices: list[int], channels: int) -> torch.Tensor:
        """(B·channels, n) at the model rate, chunk by chunk with its channels together → (B·channels, n) enhanced."""
        n = audio.shape[-1]
        # Whole hops only: the generator pads its frames itself, as in training. Padding the audio further (it was
        # to 4 hops, 57 ms of silence per 44.1 kHz chunk) skewed the instance norm of the whole chunk.
        hop = self.model.config.mel.hop_length
        padded = F.pad(audio, (0, -n % hop + (hop if n == 0 else 0)))
        log_mel = self.model.log_mel
        spec = log_mel.stft(padded)  # computed once: the log-mel is taken from it, and the fast path gains it
        degraded = log_mel.from_stft(spec)
        enhanced = generate_linked(degraded.unflatten(0, (-1, channels)), self._generate).flatten(0, 1)
        if self.settings.strength < 1:
            enhanced = limit_attenuation(degraded, enhanced, self.settings.strength)

        def fast() -> torch.Tensor:
            return log_mel.istft(gain_stft(spec, degraded, enhanced, log_mel), padded.shape[-1])

        if self.settings.musecoder == "fast":
            out = fast()
        else:
            musecoder, config = self.model.musecoder, self.model.config.musecoder
            assert musecoder is not None and config is not None  # __init__ refuses diffusion without a musecoder
            schedule = diffusion.schedule_for(config, self.settings.steps)
            seeds = [chunk_seed(self.settings.seed, i) for i in indices for _ in range(channels)]
            generators = [torch.Generator().manual_seed(seed) for seed in seeds]
            start = fast() if self.settings.warm_start else None
            out = diffusion.sample(musecoder, enhanced, schedule, generators, start=start)
            out = match_mel(out, enhanced, log_mel, MEL_MATCH_PASSES)
        return out[..., :n]

    def _generate(self, degraded: torch.Tensor) -> torch.Tensor:
        """(B, n_mels, frames) degraded log-mel → enhanced, float32, in the arithmetic `precision` asks for; only
        the generator's convolutions run in bfloat16, the mels and the gain stay float32."""
        dtype = generator_dtype(self.device, self.settings.precision)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
            return self.model.mel2mel(degraded.unsqueeze(1)).squeeze(1).float()

    def process_chunks(self, chunks: torch.Tensor, indices: list[int], sample_rate: int) -> torch.Tensor:
        """(B, channels, L) chunks at `sample_rate` with their chunk indices (they seed diffusion) → the same shape."""
        batch, channels, length = chunks.shape
        dry = chunks.to(self.device, torch.float32).reshape(batch * channels, length)
        model_rate = self.model.sample_rate
        at_model_rate = self._at_model_rate(resample(dry, sample_rate, model_rate), indices, channels)
        wet = resample(at_model_rate, model_rate, sample_rate)
        wet = wet[..., : dry.shape[-1]]
        if self.settings.full_band and sample_rate > model_rate:
            wet = recombine_high_band(dry, wet, sample_rate, model_rate)
        mix = self.settings.mix
        return (mix * wet + (1 - mix) * dry).reshape(chunks.shape).to(chunks.device)

    def feeder(self, sample_rate: int) -> ChunkFeeder:
        """This enhancer fed chunk by chunk at `sample_rate` Hz: whole recordings or streams."""
        return ChunkFeeder(partial(self.process_chunks, sample_rate=sample_rate), sample_rate, self.settings.batch_size)

    @torch.inference_mode()
    def __call__(self, audio: torch.Tensor, sample_rate: int, progress: Progress | None = None) -> torch.Tensor:
        """(channels, samples) float audio at `sample_rate` Hz → enhanced (channels, samples) float32 on the same
        device. `progress(done, total)` counts seconds of audio."""
        if audio.ndim != 2:
            raise AudioInputError(f"audio must be a (channels, samples) tensor, got shape {tuple(audio.shape)}")
        enhanced = self.feeder(check_sample_rate(sample_rate))(audio.cpu(), progress)
        return enhanced.to(audio.device)
