"""Noise schedules and the reverse (sampling) chain of the musecoder.

Paper notation → code names (DiffWave, Kong et al. 2021, Algorithms 1–2 and Sec. 4 "fast sampling"):
  β_t  → `Schedule.beta`            training noise levels, linear 1e-4…0.05 over T = 50 steps
  α_t  → `Schedule.alpha`           1 − β_t
  ᾱ_t  → `Schedule.alpha_cum`       ∏_{s≤t} α_s
  η_s  → fast `beta`                the 6 user-defined inference levels 1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5
  t_s^align → `Schedule.steps`      the fractional training step whose ᾱ matches the inference ᾱ (Eq. in Sec. 4)
  ε_θ(x_t, t, mel) → `Musecoder.forward`
  σ_t  → `_sigma`                   √((1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from muse_fx.engine.model_config import MusecoderConfig
from muse_fx.engine.musecoder import Musecoder

# The warm start joins the chain where √(1−ᾱ) ≈ 0.25: noise well below a music signal's level, so the structure
# of the fast output survives while the musecoder still re-draws its fine detail (and the 6-step schedule keeps
# 4 of its steps).
WARM_START_ALPHA_CUM = 0.94


@dataclass(frozen=True)
class Schedule:
    """One reverse chain: its noise levels and the (possibly fractional) training steps they align to."""

    beta: torch.Tensor
    steps: torch.Tensor

    @property
    def alpha(self) -> torch.Tensor:
        return 1.0 - self.beta

    @property
    def alpha_cum(self) -> torch.Tensor:
        return torch.cumprod(self.alpha, dim=0)

    def __len__(self) -> int:
        return len(self.beta)


def training_schedule(config: MusecoderConfig) -> Schedule:
    beta = torch.tensor(config.noise_schedule, dtype=torch.float64)
    return Schedule(beta=beta, steps=torch.arange(len(beta), dtype=torch.float64))


def aligned_schedule(config: MusecoderConfig, inference_beta: tuple[float, ...]) -> Schedule:
    """DiffWave's fast sampling: map each inference ᾱ_s onto the training chain by interpolating √ᾱ."""
    train = training_schedule(config)
    train_sqrt = train.alpha_cum.sqrt()
    beta = torch.tensor(inference_beta, dtype=torch.float64)
    steps = []
    for target in torch.cumprod(1.0 - beta, dim=0).sqrt():
        for t in range(len(train) - 1):
            if train_sqrt[t + 1] <= target <= train_sqrt[t]:
                steps.append(t + (train_sqrt[t] - target) / (train_sqrt[t] - train_sqrt[t + 1]))
                break
        else:
            raise ValueError(f"inference noise level ᾱ={float(target) ** 2:.4f} lies outside the training chain")
    return Schedule(beta=beta, steps=torch.tensor(steps, dtype=torch.float64))


def schedule_for(config: MusecoderConfig, steps: int) -> Schedule:
    """`steps` = the training chain's length (full chain) or the fast schedule's length (6)."""
    if steps == len(config.noise_schedule):
        return training_schedule(config)
    if steps == len(config.fast_schedule):
        return aligned_schedule(config, config.fast_schedule)
    raise ValueError(
        f"steps must be {len(config.fast_schedule)} (fast schedule) or {len(config.noise_schedule)} "
        f"(full chain), got {steps}"
    )


def _sigma(schedule: Schedule, n: int) -> float:
    return float(((1 - schedule.alpha_cum[n - 1]) / (1 - schedule.alpha_cum[n]) * schedule.beta[n]).sqrt())


def _gaussian(shape: tuple[int, int], generators: list[torch.Generator], like: torch.Tensor) -> torch.Tensor:
    # Drawn on the CPU, one generator per batch item: the same seed gives the same audio on any device and in
    # any batch, which is what makes streaming reproduce offline results.
    noise = torch.stack([torch.randn(shape[1], generator=g) for g in generators])
    return noise.to(device=like.device, dtype=like.dtype)


def warm_start_step(schedule: Schedule, alpha_cum: float = WARM_START_ALPHA_CUM) -> int:
    """The chain's step whose ᾱ is nearest `alpha_cum`: where an SDEdit-style warm start joins it."""
    return int((schedule.alpha_cum - alpha_cum).abs().argmin())


def sample(
    model: Musecoder,
    mel: torch.Tensor,
    schedule: Schedule,
    generators: list[torch.Generator],
    start: torch.Tensor | None = None,
) -> torch.Tensor:
    """Run the reverse chain: (B, n_mels, frames) mel → (B, frames·hop) waveform in [-1, 1].

    `start` (B, frames·hop), e.g. the fast path's output, warm-starts the chain SDEdit-style (Meng et al. 2022):
    it is noised to x_n = √ᾱ_n·start + √(1−ᾱ_n)·ε at `warm_start_step` and only the steps below run, so the
    musecoder refines what is there instead of inventing it from noise.
    """
    conditioners = model.condition(mel)
    shape = (mel.shape[0], mel.shape[-1] * model.hop_length)
    alpha, alpha_cum = schedule.alpha, schedule.alpha_cum
    first = len(schedule) - 1
    audio = _gaussian(shape, generators, mel)
    if start is not None:
        first = warm_start_step(schedule)
        audio = float(alpha_cum[first].sqrt()) * start + float((1 - alpha_cum[first]).sqrt()) * audio
    for n in range(first, -1, -1):
        step = torch.full((shape[0],), float(schedule.steps[n]), device=mel.device, dtype=mel.dtype)
        noise = model(audio, step, conditioners)
        audio = (audio - float(schedule.beta[n] / (1 - alpha_cum[n]).sqrt()) * noise) / float(alpha[n].sqrt())
        if n > 0:
            audio = audio + _sigma(schedule, n) * _gaussian(shape, generators, mel)
        audio = audio.clamp(-1.0, 1.0)
    return audio
