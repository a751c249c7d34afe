"""The log-mel front-end, defined once for every model, trainer and metric."""

from __future__ import annotations

import torch
import torchaudio
from torch import nn

from muse_fx.engine.model_config import MelConfig


class LogMel(nn.Module):
    """Waveform (..., samples) at `config.sample_rate` → log2 mel power (..., n_mels, frames).

    Frame t is centred on sample t·hop. With the paper's odd n_fft (1023) a whole number of hops gives exactly
    samples / hop frames, one per hop of audio the vocoder renders.
    """

    def __init__(self, config: MelConfig = MelConfig()):
        super().__init__()
        self.config = config
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=config.sample_rate,
            n_fft=config.n_fft,
            hop_length=config.hop_length,
            n_mels=config.n_mels,
            f_min=config.f_min,
            f_max=config.f_max,
            power=2.0,
            center=True,
            pad_mode="constant",  # reflection fails on chunks shorter than n_fft // 2
        )
        self.power_scale = (config.reference_n_fft / config.n_fft) ** 2 if config.reference_n_fft else 1.0

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.from_stft(self.stft(audio))

    def stft(self, audio: torch.Tensor) -> torch.Tensor:
        """(..., samples) → the complex STFT (..., n_fft // 2 + 1, frames) the log-mel is taken from, so the fast
        path can gain it without computing it again."""
        config = self.config
        window = self.mel.spectrogram.window
        spec = torch.stft(
            audio.reshape(-1, audio.shape[-1]),
            config.n_fft,
            config.hop_length,
            window=window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        return spec.reshape(audio.shape[:-1] + spec.shape[-2:])

    def from_stft(self, spec: torch.Tensor) -> torch.Tensor:
        """The complex STFT from `stft` → log2 mel power (..., n_mels, frames)."""
        power = self.mel.mel_scale(spec.abs().pow(2.0))
        return torch.log2((power * self.power_scale).clamp_min(self.config.log_floor))

    def istft(self, spec: torch.Tensor, length: int) -> torch.Tensor:
        """The inverse of `stft`: (..., n_fft // 2 + 1, frames) → (..., length) samples."""
        config, window = self.config, self.mel.spectrogram.window
        return torch.istft(spec, config.n_fft, config.hop_length, window=window, length=length)

    @property
    def filterbank(self) -> torch.Tensor:
        """Mel weights (n_fft // 2 + 1, n_mels), for mapping mel-domain gains back onto STFT bins."""
        return self.mel.mel_scale.fb
