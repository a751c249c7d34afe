"""Enhancement of audio at any sample rate, length and channel count with one loaded model.

Per chunk: resample to the model rate → log-mel → mel2mel → musecoder (fast gain, or diffusion followed by a mel
match) → resample back → recombine the band above the model's Nyquist from the input → dry/wet mix.
`chunking.overlap_add` stitches the chunks; every step is sample-aligned with the input, so the mix cannot comb-filter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
import torchaudio

from . import diffusion
from .bandsplit import recombine_high_band
from .chunking import ChunkLayout, overlap_add
from .fast_path import apply_mel_gain, limit_attenuation, match_mel
from .mel2mel import DOWNSAMPLING
from .errors import ModelError
from .model import MuseModel

CHUNK_SECONDS = 2.944  # 46 × 1024 samples at 16 kHz, close to the paper's 47360-sample chunks
OVERLAP = 0.25
MEL_MATCH_PASSES = 3  # diffusion output → enhanced mel; paper-val gains per pass shrink fast (see the model card)
# librosa's "kaiser_best": flat to 0.9 × Nyquist, so the band crossover (bandsplit.py) meets an unattenuated model band.
KAISER_BEST = dict(
    lowpass_filter_width=64, rolloff=0.9475937167399596, resampling_method="sinc_interp_kaiser", beta=14.769656459379492
)


@dataclass(frozen=True)
class Settings:
    musecoder: str = "fast"
    steps: int = 6
    mix: float = 1.0
    seed: int = 0
    full_band: bool = True
    batch_size: int = 4
    strength: float = 1.0  # how far cuts may go: 1 = the model's own, 0 = none (see fast_path.limit_attenuation)
    warm_start: bool = True  # diffusion starts from the noised fast output (diffusion.sample's `start`)


@functools.lru_cache(maxsize=16)
def resampler(source: int, target: int, device: torch.device) -> torchaudio.transforms.Resample:
    """Kaiser kernels take ~0.1 s to build: keep them across calls, plugins and server requests."""
    return torchaudio.transforms.Resample(source, target, **KAISER_BEST).to(device)


def chunk_layout(sample_rate: int) -> ChunkLayout:
    length = max(1, round(CHUNK_SECONDS * sample_rate))
    return ChunkLayout(length=length, hop=max(1, round(length * (1 - OVERLAP))))


class Enhancer:
    """A model on a device plus settings; call it on (channels, samples) float tensors."""

    def __init__(self, model: MuseModel, settings: Settings):
        if settings.musecoder == "diffusion" and model.musecoder is None:
            raise ModelError(
                "this model has no musecoder (it renders with the fast path only); use musecoder='fast', "
                "or a model with one, such as model='cpu-small'"
            )
        self.model = model
        self.settings = settings
        self.device = next(model.parameters()).device

    def _resample(self, audio: torch.Tensor, source: int, target: int) -> torch.Tensor:
        if source == target:
            return audio
        return resampler(source, target, self.device)(audio)

    def _at_model_rate(self, audio: torch.Tensor, indices: list[int]) -> torch.Tensor:
        """(B, n) at the model rate → (B, n) enhanced."""
        n = audio.shape[-1]
        multiple = self.model.config.mel.hop_length * DOWNSAMPLING
        padded = F.pad(audio, (0, -n % multiple + (multiple if n == 0 else 0)))
        degraded = self.model.log_mel(padded)
        enhanced = self.model.mel2mel(degraded.unsqueeze(1)).squeeze(1)
        if self.settings.strength < 1:
            enhanced = limit_attenuation(degraded, enhanced, self.settings.strength)
        if self.settings.musecoder == "fast":
            out = apply_mel_gain(padded, degraded, enhanced, self.model.log_mel)
        else:
            schedule = diffusion.schedule_for(self.model.config.musecoder, self.settings.steps)
            generators = [torch.Generator().manual_seed(self.settings.seed * 1_000_003 + i) for i in indices]
            fast = apply_mel_gain(padded, degraded, enhanced, self.model.log_mel) if self.settings.warm_start else None
            out = diffusion.sample(self.model.musecoder, enhanced, schedule, generators, start=fast)
            out = match_mel(out, enhanced, self.model.log_mel, MEL_MATCH_PASSES)
        return out[..., :n]

    def process_chunks(self, chunks: torch.Tensor, indices: list[int], sample_rate: int) -> torch.Tensor:
        """(B, L) chunks at `sample_rate` with their chunk indices (they seed diffusion) → (B, L)."""
        dry = chunks.to(self.device, torch.float32)
        model_rate = self.model.sample_rate
        wet = self._resample(self._at_model_rate(self._resample(dry, sample_rate, model_rate), indices), model_rate, sample_rate)
        wet = wet[..., : dry.shape[-1]]
        if self.settings.full_band and sample_rate > model_rate:
            wet = recombine_high_band(dry, wet, sample_rate, model_rate)
        mix = self.settings.mix
        return (mix * wet + (1 - mix) * dry).to(chunks.device)

    @torch.inference_mode()
    def __call__(
        self, audio: torch.Tensor, sample_rate: int, progress: Callable[[int, int], None] | None = None
    ) -> torch.Tensor:
        """(channels, samples) at `sample_rate` → enhanced (channels, samples), same rate."""
        return overlap_add(
            audio,
            lambda chunks, indices: self.process_chunks(chunks, indices, sample_rate),
            chunk_layout(sample_rate),
            batch_size=self.settings.batch_size,
            progress=progress,
        )
