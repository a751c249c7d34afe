"""Model settings as dataclasses; the defaults are the paper's (Kandpal, Nieto & Jin, ICASSP 2022)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MelConfig:
    """Log-mel front-end shared by mel2mel and the musecoder: 16 kHz, n_fft 1023, hop 256, 128 bands, log2."""

    sample_rate: int = 16000
    n_fft: int = 1023
    hop_length: int = 256
    n_mels: int = 128
    f_min: float = 0.0
    f_max: float = 8000.0
    log_floor: float = 1e-5  # keeps log2 finite in silence: -16.6 is the quietest value the model sees
    # STFT power grows with the window's length squared: scale it as if the window were this long, so a front-end
    # at another rate with the same window duration reads the same levels as the 16 kHz one (0: no scaling).
    reference_n_fft: int = 0


@dataclass(frozen=True)
class Mel2MelConfig:
    """Pix2Pix ResNet generator + PatchGAN discriminator over the log-mel image."""

    ngf: int = 64
    n_blocks: int = 9
    dropout: float = 0.5
    ndf: int = 64
    discriminator_layers: int = 3
    # 0: one generator for every band. Otherwise the bands from `split_band` up get a second generator of the same
    # size, which also sees the `split_context` bands below the split. The first keeps the 128 bands of a 16 kHz
    # model, and its InstanceNorm statistics with them, so that model's weights carry over unchanged.
    split_band: int = 0
    split_context: int = 32


@dataclass(frozen=True)
class MusecoderConfig:
    """DiffWave conditioned on the log-mel: residual stack and noise schedules."""

    residual_channels: int = 64
    residual_layers: int = 30
    dilation_cycle: int = 10
    noise_schedule: tuple[float, ...] = field(
        default_factory=lambda: tuple(1e-4 + i * (0.05 - 1e-4) / 49 for i in range(50))
    )
    fast_schedule: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5)


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a bundled model from its weights. `musecoder` None: a fast-path-only model."""

    mel: MelConfig = field(default_factory=MelConfig)
    mel2mel: Mel2MelConfig = field(default_factory=Mel2MelConfig)
    musecoder: MusecoderConfig | None = field(default_factory=MusecoderConfig)

    def to_dict(self) -> dict:
        """Nested dicts; a missing musecoder is a missing key, since TOML has no null."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        """Rebuild from `to_dict` output; unknown keys are an error so typos don't pass silently."""
        musecoder = dict(data["musecoder"]) if "musecoder" in data else None
        for key in ("noise_schedule", "fast_schedule"):
            if musecoder and key in musecoder:
                musecoder[key] = tuple(musecoder[key])
        return cls(
            mel=MelConfig(**data.get("mel", {})),
            mel2mel=Mel2MelConfig(**data.get("mel2mel", {})),
            musecoder=MusecoderConfig(**musecoder) if musecoder is not None else None,
        )


PAPER = ModelConfig()

# Small enough to train and run on a laptop CPU; same architecture, fewer channels and layers.
CPU_SMALL = ModelConfig(
    mel2mel=Mel2MelConfig(ngf=32, n_blocks=6, ndf=32),
    musecoder=MusecoderConfig(residual_channels=32, residual_layers=12, dilation_cycle=6),
)

# Full band at the rate musicians record, on the 16 kHz front-end's grid: the same window (64 ms) and hop (16 ms)
# durations, and the same mel spacing carried on above 8 kHz to 21.5 kHz. Its lowest 128 bands are the 16 kHz
# model's 128 bands, enhanced by a CPU_SMALL generator that starts as the 16 kHz model's; a second one learns the
# 48 bands above. No musecoder yet: the fast path renders it.
FULL_BAND_MEL = MelConfig(
    sample_rate=44100, n_fft=2816, hop_length=704, n_mels=176, f_max=21520.09, reference_n_fft=1023
)
FULL_BAND = ModelConfig(
    mel=FULL_BAND_MEL, mel2mel=dataclasses.replace(CPU_SMALL.mel2mel, split_band=128), musecoder=None
)
# The same with generators half as wide again (ngf 48: 2.25× the compute), to measure whether capacity is what
# holds the full-band model back. Start it from a FULL_BAND model: the narrow weights embed exactly.
FULL_BAND_WIDE = dataclasses.replace(FULL_BAND, mel2mel=dataclasses.replace(FULL_BAND.mel2mel, ngf=48))
# One CPU_SMALL generator over all 176 bands: no seam where two halves meet (FULL_BAND's left a +7.8 dB step in the
# long-term spectrum at 8 kHz on real recordings), half the weights and 176 rather than 128 + 80 bands of compute.
FULL_BAND_SINGLE = dataclasses.replace(FULL_BAND, mel2mel=CPU_SMALL.mel2mel)

# Seconds-long smoke runs and the test suite's random-init model: same architecture, a handful of channels.
TINY = ModelConfig(
    mel2mel=Mel2MelConfig(ngf=4, n_blocks=1, ndf=4, discriminator_layers=2),
    musecoder=MusecoderConfig(residual_channels=4, residual_layers=2, dilation_cycle=2),
)
