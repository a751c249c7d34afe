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


@dataclass(frozen=True)
class Mel2MelConfig:
    """Pix2Pix ResNet generator + PatchGAN discriminator over the log-mel image."""

    ngf: int = 64
    n_blocks: int = 9
    dropout: float = 0.5
    ndf: int = 64
    discriminator_layers: int = 3


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

# Full band at the rate musicians record: 128 mels up to 22.05 kHz, 10 ms hops (21², so a DiffWave upsampler fits
# later), CPU_SMALL's generator; no musecoder yet, so the fast path renders it.
FULL_BAND_MEL = MelConfig(sample_rate=44100, n_fft=2048, hop_length=441, n_mels=128, f_max=22050.0)
FULL_BAND = ModelConfig(mel=FULL_BAND_MEL, mel2mel=CPU_SMALL.mel2mel, musecoder=None)

# Seconds-long smoke runs and the test suite's random-init model: same architecture, a handful of channels.
TINY = ModelConfig(
    mel2mel=Mel2MelConfig(ngf=4, n_blocks=1, ndf=4, discriminator_layers=2),
    musecoder=MusecoderConfig(residual_channels=4, residual_layers=2, dilation_cycle=2),
)
