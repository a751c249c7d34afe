"""The room-impulse-response bank: shoebox rooms simulated by pyroomacoustics (image source + ray tracing).

Each RIR is tagged with the RT60 *measured* on it: the one requested from Sabine's formula is off by 1.2–1.5×.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from muse_fx.training.corpus import split_for

RT60_RANGE = (0.15, 2.5)  # seconds, requested; measured values spread a little wider
SPLITS = (("train", 80), ("validation", 10), ("test", 10))


@dataclass(frozen=True)
class RoomDraw:
    dims: tuple[float, float, float]  # metres
    rt60_target: float
    source: tuple[float, float, float]
    mic: tuple[float, float, float]


def draw_room(rng: random.Random) -> RoomDraw:
    dims = (rng.uniform(3, 20), rng.uniform(3, 15), rng.uniform(2.4, 6))
    # Log-uniform RT60: small rooms are as common as halls.
    rt60 = float(np.exp(rng.uniform(*np.log(RT60_RANGE))))

    def inside() -> tuple[float, float, float]:
        width, depth, height = (rng.uniform(0.5, d - 0.5) for d in dims)
        return width, depth, height

    return RoomDraw(dims, rt60, inside(), inside())


def simulate(draw: RoomDraw, sample_rate: int) -> np.ndarray:
    """One RIR (samples,), float32, ~0.2 s of CPU for the hybrid simulator."""
    import pyroomacoustics as pra

    absorption, max_order = pra.inverse_sabine(draw.rt60_target, draw.dims)
    room = pra.ShoeBox(
        draw.dims,
        fs=sample_rate,
        materials=pra.Material(absorption),
        max_order=min(max_order, 3),
        ray_tracing=True,
        air_absorption=True,
    )
    room.set_ray_tracing(receiver_radius=0.5, n_rays=2000, energy_thres=1e-5)
    room.add_source(draw.source)
    room.add_microphone(draw.mic)
    room.compute_rir()
    return np.asarray(room.rir[0][0], dtype=np.float32)


def measured_rt60(rir: np.ndarray, sample_rate: int) -> float:
    """Schroeder backward integration, T30 extrapolated to 60 dB (T20 when the decay is too short)."""
    import pyroomacoustics as pra

    try:
        return float(pra.experimental.measure_rt60(rir, fs=sample_rate, decay_db=30))
    except (ValueError, IndexError):
        return float(pra.experimental.measure_rt60(rir, fs=sample_rate, decay_db=20))


def build_bank(count: int, sample_rate: int, seed: int = 0, progress: Callable[[], None] | None = None) -> dict:
    """→ {"sample_rate", "rirs": [(samples,) float32 tensors], "rt60", "rt60_target", "split", "dims"}."""
    rng = random.Random(seed)
    bank: dict = {"sample_rate": sample_rate, "rirs": [], "rt60": [], "rt60_target": [], "split": [], "dims": []}
    for index in range(count):
        while True:
            draw = draw_room(rng)
            try:
                rir = simulate(draw, sample_rate)
                break
            except ValueError:  # a big room can't be that dry (absorption > 1): draw another room
                continue
        bank["rirs"].append(torch.from_numpy(rir))
        bank["rt60"].append(measured_rt60(rir, sample_rate))
        bank["rt60_target"].append(draw.rt60_target)
        bank["split"].append(split_for(f"rir{index}", SPLITS))
        bank["dims"].append(draw.dims)
        if progress:
            progress()
    return bank


def convolve_aligned(audio: torch.Tensor, rir: torch.Tensor) -> torch.Tensor:
    """(..., samples) * rir, advanced by the RIR's peak (the direct path) so it stays aligned with the dry signal."""
    rir = rir.to(audio.device, audio.dtype)
    peak = int(rir.abs().argmax())
    rir = rir / rir[peak].abs().clamp_min(1e-9)  # direct path at unit gain: reverb adds, never rescales the dry
    n = 1 << (audio.shape[-1] + rir.shape[-1] - 2).bit_length()  # a power of two: FFT speed, no wrap-around
    wet = torch.fft.irfft(torch.fft.rfft(audio, n) * torch.fft.rfft(rir, n), n)
    return wet[..., peak : peak + audio.shape[-1]]
