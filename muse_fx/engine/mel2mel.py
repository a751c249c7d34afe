"""mel2mel: Pix2Pix's ResNet generator and PatchGAN discriminator over log-mel images (Isola et al. 2017).

The log-mel (n_mels, frames) is a one-channel image. The generator predicts the clean image from the degraded
one; the discriminator scores overlapping patches of (degraded, candidate) pairs for the LSGAN loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from muse_fx.engine.model_config import Mel2MelConfig
from muse_fx.errors import ModelError

DOWNSAMPLING = 4  # two stride-2 convolutions: frames and bands must be padded to a multiple of this


def _norm(channels: int) -> nn.Module:
    """Instance norm, computed as a group norm with one channel per group: the same statistics and no parameters
    either (so the same state dict), but torch's CPU instance norm runs as a batch norm over a reshaped tensor,
    3× slower; it took 13 % of the generator's time."""
    return nn.GroupNorm(channels, channels, affine=False)


class ToOneChannel(nn.Conv2d):
    """A convolution to one output channel (the generator's last layer), summed per input channel: the same sum in
    another order, 4-5× faster on CPU, where oneDNN's one-output kernel took 12 % of the generator's time for 1 %
    of its multiply-adds. Weights and state dict are nn.Conv2d's."""

    def __init__(self, in_channels: int, kernel_size: int):
        super().__init__(in_channels, 1, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        per_channel = F.conv2d(x, self.weight.transpose(0, 1), None, self.stride, self.padding, groups=x.shape[1])
        assert self.bias is not None  # made with one
        return per_channel.sum(dim=1, keepdim=True) + self.bias


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, dropout: float):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=True),
            _norm(channels),
            nn.ReLU(True),
            nn.Dropout(dropout),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=True),
            _norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def embed_weights(wide: nn.Module, narrow: nn.Module) -> None:
    """Copy `narrow`'s weights into `wide`, the same layers with as many or more channels, so that `wide` computes
    exactly what `narrow` does (Net2Net-style widening, Chen et al. 2016).

    Each convolution's leading channels take the narrow weights; weights from the extra input channels into the
    old output channels start at zero, so nothing reads the extra channels until training moves those weights. The
    extra output channels keep their random start, which gives those weights a gradient from the first step.
    """
    convolutions = [
        [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))] for net in (wide, narrow)
    ]
    fits = len(convolutions[0]) == len(convolutions[1]) and all(
        a.weight.shape[2:] == b.weight.shape[2:] and all(x >= y for x, y in zip(a.weight.shape, b.weight.shape))
        for a, b in zip(*convolutions)
    )
    if not fits:
        raise ModelError(
            "cannot start this generator from that one: it needs the same layers (blocks) with no more channels"
        )
    for mine, theirs in zip(*convolutions):
        weight, old = mine.weight.data, theirs.weight.data
        in_dim = 0 if isinstance(mine, nn.ConvTranspose2d) else 1  # ConvTranspose2d weights are (in, out, …)
        out_dim = 1 - in_dim
        n_in, n_out = old.shape[in_dim], old.shape[out_dim]
        kept = weight.narrow(out_dim, 0, n_out)
        kept.narrow(in_dim, n_in, weight.shape[in_dim] - n_in).zero_()
        kept.narrow(in_dim, 0, n_in).copy_(old)
        mine.bias.data[:n_out].copy_(theirs.bias.data)


class Generator(nn.Module):
    """(B, 1, n_mels, frames) degraded log-mel → (B, 1, n_mels, frames) clean log-mel."""

    def __init__(self, config: Mel2MelConfig = Mel2MelConfig()):
        super().__init__()
        ngf = config.ngf
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(1, ngf, 7), _norm(ngf), nn.ReLU(True)]
        for i in range(2):
            c = ngf * 2**i
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), _norm(2 * c), nn.ReLU(True)]
        layers += [ResidualBlock(ngf * 4, config.dropout) for _ in range(config.n_blocks)]
        for i in range(2):
            c = ngf * 4 // 2**i
            layers += [
                nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1),
                _norm(c // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), ToOneChannel(ngf, 7)]
        self.net = nn.Sequential(*layers)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        frames = mel.shape[-1]
        # The bottleneck's reflection padding needs ≥ 2 frames there, hence at least 2·DOWNSAMPLING in.
        pad = max(-frames % DOWNSAMPLING, 2 * DOWNSAMPLING - frames)
        padded = F.pad(mel, (0, pad, 0, 0), mode="replicate") if pad else mel
        # Predict the change, not the image: the identity is the natural starting point for enhancement.
        return (padded + self.net(padded))[..., :frames]

    def start_from(self, other: nn.Module) -> None:
        """Take another generator's weights, e.g. a 16 kHz model's to start a full-band one.

        From a split generator, its lower half's: that half holds the 16 kHz model's training and the bands where
        music has most of its energy, and its convolutions slide along frequency, so they apply above the split too.
        """
        embed_weights(self, other.low if isinstance(other, SplitGenerator) else other)


class SplitGenerator(nn.Module):
    """Two generators stacked in frequency: `low` on the bands below `config.split_band`, `high` on the rest.

    `high` also sees `split_context` bands below the split, so the seam has context on both sides; only its bands
    from the split up are kept.
    """

    def __init__(self, config: Mel2MelConfig):
        super().__init__()
        self.split, self.context = config.split_band, config.split_context
        self.low = Generator(config)
        self.high = Generator(config)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        low = self.low(mel[..., : self.split, :])
        high = self.high(mel[..., self.split - self.context :, :])[..., self.context :, :]
        return torch.cat([low, high], dim=-2)

    def start_from(self, other: nn.Module) -> None:
        """A split generator's weights, or one generator's for both halves: each starts knowing how to enhance."""
        if isinstance(other, SplitGenerator):
            embed_weights(self, other)
        else:
            self.low.start_from(other)
            self.high.start_from(other)


def make_generator(config: Mel2MelConfig) -> Generator | SplitGenerator:
    return SplitGenerator(config) if config.split_band else Generator(config)


class Discriminator(nn.Module):
    """PatchGAN: (B, 2, n_mels, frames) = (degraded, candidate) → (B, 1, h, w) realness per 70×70 patch."""

    def __init__(self, config: Mel2MelConfig = Mel2MelConfig()):
        super().__init__()
        ndf = config.ndf
        layers: list[nn.Module] = [nn.Conv2d(2, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        channels = ndf
        for n in range(1, config.discriminator_layers + 1):
            out = ndf * min(2**n, 8)
            stride = 2 if n < config.discriminator_layers else 1
            layers += [nn.Conv2d(channels, out, 4, stride=stride, padding=1), _norm(out), nn.LeakyReLU(0.2, True)]
            channels = out
        layers += [nn.Conv2d(channels, 1, 4, stride=1, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, degraded: torch.Tensor, candidate: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([degraded, candidate], dim=1))
