"""The musecoder: DiffWave (Kong et al. 2021) conditioned on the log-mel, as in the paper.

It predicts the noise ε in a noisy waveform x_t given the diffusion step t and the mel. The sampler
(`diffusion.py`) calls it once per step; everything that depends only on the mel is computed once per chunk
by `condition()` and passed back in, so a 50-step chain does the mel work once, not 50 times.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from muse_fx.engine.model_config import MelConfig, MusecoderConfig

EMBEDDING_DIM = 128


class DiffusionEmbedding(nn.Module):
    """Sinusoidal step embedding; fractional steps (the fast schedule's aligned t) interpolate linearly."""

    def __init__(self, max_steps: int):
        super().__init__()
        steps = torch.arange(max_steps).unsqueeze(1)
        dims = torch.arange(EMBEDDING_DIM // 2).unsqueeze(0)
        table = steps * 10.0 ** (dims * 4.0 / (EMBEDDING_DIM // 2 - 1))
        self.table: torch.Tensor
        self.register_buffer("table", torch.cat([torch.sin(table), torch.cos(table)], dim=1), persistent=False)
        self.projection1 = nn.Linear(EMBEDDING_DIM, 512)
        self.projection2 = nn.Linear(512, 512)

    def forward(self, step: torch.Tensor) -> torch.Tensor:
        """step: (B,) float → (B, 512)."""
        low = step.floor().long().clamp(0, len(self.table) - 1)
        high = (low + 1).clamp(max=len(self.table) - 1)
        frac = (step - low).unsqueeze(-1)
        x = self.table[low] + frac * (self.table[high] - self.table[low])
        return F.silu(self.projection2(F.silu(self.projection1(x))))


class MelUpsampler(nn.Module):
    """(B, n_mels, frames) → (B, n_mels, frames·hop) with two transposed convolutions of stride √hop."""

    def __init__(self, hop_length: int):
        super().__init__()
        stride = math.isqrt(hop_length)
        if stride * stride != hop_length:
            raise ValueError(f"hop_length must be a square number for the DiffWave upsampler, got {hop_length}")
        self.conv1 = nn.ConvTranspose2d(1, 1, (3, 2 * stride), stride=(1, stride), padding=(1, stride // 2))
        self.conv2 = nn.ConvTranspose2d(1, 1, (3, 2 * stride), stride=(1, stride), padding=(1, stride // 2))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.conv1(mel.unsqueeze(1)), 0.4)
        x = F.leaky_relu(self.conv2(x), 0.4)
        return x.squeeze(1)


class ResidualLayer(nn.Module):
    def __init__(self, n_mels: int, channels: int, dilation: int):
        super().__init__()
        self.dilated_conv = nn.Conv1d(channels, 2 * channels, 3, padding=dilation, dilation=dilation)
        self.step_projection = nn.Linear(512, channels)
        self.conditioner_projection = nn.Conv1d(n_mels, 2 * channels, 1)
        self.output_projection = nn.Conv1d(channels, 2 * channels, 1)

    def forward(self, x: torch.Tensor, step: torch.Tensor, conditioner: torch.Tensor):
        """x: (B, C, T); step: (B, 512); conditioner: this layer's projected mel (B, 2C, T)."""
        y = self.dilated_conv(x + self.step_projection(step).unsqueeze(-1)) + conditioner
        gate, filtr = y.chunk(2, dim=1)
        residual, skip = self.output_projection(torch.sigmoid(gate) * torch.tanh(filtr)).chunk(2, dim=1)
        return (x + residual) / math.sqrt(2.0), skip


class Musecoder(nn.Module):
    """ε-prediction network: (B, samples) noisy audio, (B,) step, mel conditioning → (B, samples) noise."""

    def __init__(self, config: MusecoderConfig = MusecoderConfig(), mel: MelConfig = MelConfig()):
        super().__init__()
        self.config = config
        self.hop_length = mel.hop_length
        c = config.residual_channels
        self.input_projection = nn.Conv1d(1, c, 1)
        self.step_embedding = DiffusionEmbedding(len(config.noise_schedule))
        self.upsampler = MelUpsampler(mel.hop_length)
        self.layers = nn.ModuleList(
            ResidualLayer(mel.n_mels, c, 2 ** (i % config.dilation_cycle)) for i in range(config.residual_layers)
        )
        self.skip_projection = nn.Conv1d(c, c, 1)
        self.output_projection = nn.Conv1d(c, 1, 1)
        nn.init.zeros_(self.output_projection.weight)

    def condition(self, mel: torch.Tensor) -> list[torch.Tensor]:
        """(B, n_mels, frames) → one (B, 2C, frames·hop) conditioner per layer; constant across steps."""
        upsampled = self.upsampler(mel)
        return [layer.conditioner_projection(upsampled) for layer in self.layers]  # type: ignore[operator]  # untyped ModuleList

    def forward(self, audio: torch.Tensor, step: torch.Tensor, conditioners: list[torch.Tensor]) -> torch.Tensor:
        x = F.relu(self.input_projection(audio.unsqueeze(1)))
        step_embedding = self.step_embedding(step)
        skip = torch.zeros_like(x)
        for layer, conditioner in zip(self.layers, conditioners):
            x, layer_skip = layer(x, step_embedding, conditioner)
            skip = skip + layer_skip
        x = F.relu(self.skip_projection(skip / math.sqrt(len(self.layers))))
        return self.output_projection(x).squeeze(1)
