"""A preset's loudness make-up: where the result ends, measured as ITU-R BS.1770-4 integrated loudness (LUFS).

Cleaning presets keep the input's loudness ("match-input"); mastering presets end at a LUFS target. Either way
the gain stops where the output's peak would pass the preset's ceiling, and the result says so. The meter reads
a file block by block (K-weighting filters designed by pyloudnorm, run with carried state), so an hour-long
recording costs a few hundred kilobytes of block energies, not its length in memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from muse_fx.errors import PresetError

MATCH_INPUT = "match-input"
BLOCK_S = 0.4  # BS.1770 gating block…
HOP_S = 0.1  # …moving in steps of a quarter block
ABSOLUTE_GATE = -70.0  # LUFS
RELATIVE_GATE = -10.0  # LU below the loudness of the blocks that pass the absolute gate
CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)  # L, R, C, Ls, Rs, as pyloudnorm orders them; any further: 1.0


@dataclass(frozen=True)
class Loudness:
    """`target`: integrated LUFS, or MATCH_INPUT; `ceiling_db`: the sample peak (dBFS) the gain may not pass."""

    target: float | str
    ceiling_db: float | None = None

    @classmethod
    def from_preset(cls, data: dict, path: Path) -> Loudness | None:
        """The preset's `loudness` and `peak_ceiling_db` keys, checked; None when it sets no loudness."""
        target, ceiling = data.get("loudness"), data.get("peak_ceiling_db")
        if target is None:
            if ceiling is not None:
                raise PresetError(f"preset {path}: peak_ceiling_db needs a loudness key beside it")
            return None
        if target != MATCH_INPUT and not (isinstance(target, (int, float)) and -70 <= target <= 0):
            raise PresetError(
                f'preset {path}: loudness must be "{MATCH_INPUT}" or a LUFS value from -70 to 0, got {target!r}'
            )
        if ceiling is not None and not (isinstance(ceiling, (int, float)) and -20 <= ceiling <= 0):
            raise PresetError(f"preset {path}: peak_ceiling_db must be a dBFS value from -20 to 0, got {ceiling!r}")
        return cls(target if target == MATCH_INPUT else float(target), None if ceiling is None else float(ceiling))

    def to_preset(self) -> dict:
        return {
            "loudness": self.target,
            **({"peak_ceiling_db": self.ceiling_db} if self.ceiling_db is not None else {}),
        }

    def make_up(self, loudness_in: float, loudness_out: float, peak_out: float) -> MakeUp:
        """The gain for an output measured at `loudness_out` LUFS with sample peak `peak_out` (linear)."""
        reference = loudness_in if self.target == MATCH_INPUT else float(self.target)
        if not (math.isfinite(reference) and math.isfinite(loudness_out)):
            return MakeUp(0.0, reference, loudness_out)  # silence (or all below the gate) stays as it is
        gain = reference - loudness_out
        if self.ceiling_db is not None and peak_out > 0:
            gain = min(gain, self.ceiling_db - 20 * math.log10(peak_out))
        return MakeUp(gain, reference, loudness_out + gain)


@dataclass(frozen=True)
class MakeUp:
    """A gain in dB and what it leads to: `reached` LUFS where `wanted` was asked for."""

    gain_db: float
    wanted: float
    reached: float

    @property
    def factor(self) -> float:
        return 10 ** (self.gain_db / 20)

    @property
    def short(self) -> bool:
        """Whether the peak ceiling stopped the gain short of the target (by more than a rounding)."""
        return math.isfinite(self.reached) and self.wanted - self.reached > 0.05


def integrated_loudness(audio: np.ndarray, rate: int) -> float:
    """LUFS of a whole (channels, samples) recording held in memory (LoudnessMeter in one block)."""
    meter = LoudnessMeter(rate, audio.shape[0])
    meter.update(audio)
    return meter.integrated


class LoudnessMeter:
    """Integrated loudness (LUFS, ITU-R BS.1770-4) of (channels, samples) audio fed block by block."""

    def __init__(self, rate: int, channels: int):
        import pyloudnorm
        import scipy.signal

        self._lfilter = scipy.signal.lfilter
        stages = (  # BS.1770's K-weighting: a head-effect shelf, then the RLB high-pass
            pyloudnorm.IIRfilter(4.0, 1 / math.sqrt(2), 1500.0, rate, "high_shelf"),
            pyloudnorm.IIRfilter(0.0, 0.5, 38.0, rate, "high_pass"),
        )
        self._stages = [(stage.b, stage.a, np.zeros((channels, len(stage.a) - 1))) for stage in stages]
        self._rate = rate
        self._weights = np.array([CHANNEL_WEIGHTS[i] if i < len(CHANNEL_WEIGHTS) else 1.0 for i in range(channels)])
        self._hops: list[np.ndarray] = []  # per completed hop: each channel's sum of squared K-weighted samples
        self._partial = np.zeros(channels)
        self._seen = 0

    def _hop_end(self, hop: int) -> int:
        return int(HOP_S * (hop + 1) * self._rate)

    def update(self, block: np.ndarray) -> None:
        weighted = np.asarray(block, dtype=np.float64)
        for number, (b, a, state) in enumerate(self._stages):
            weighted, state = self._lfilter(b, a, weighted, axis=-1, zi=state)
            self._stages[number] = (b, a, state)
        energy = np.concatenate([np.zeros((weighted.shape[0], 1)), np.cumsum(weighted**2, axis=1)], axis=1)
        taken = 0
        while (end := self._hop_end(len(self._hops)) - self._seen) <= weighted.shape[1]:
            self._hops.append(self._partial + energy[:, end] - energy[:, taken])
            self._partial = np.zeros_like(self._partial)
            taken = end
        self._partial += energy[:, -1] - energy[:, taken]
        self._seen += weighted.shape[1]

    @property
    def integrated(self) -> float:
        """LUFS; -inf for audio shorter than one gating block or quieter than the absolute gate."""
        hops_per_block = round(BLOCK_S / HOP_S)
        if len(self._hops) < hops_per_block:
            return -math.inf
        hops = np.array(self._hops)
        blocks = sum(hops[i : len(hops) - hops_per_block + 1 + i] for i in range(hops_per_block))
        power = blocks @ self._weights / (BLOCK_S * self._rate)  # the channel-weighted mean square per block
        with np.errstate(divide="ignore"):
            loudness = -0.691 + 10 * np.log10(power)
        audible = loudness >= ABSOLUTE_GATE
        if not audible.any():
            return -math.inf
        relative = -0.691 + 10 * math.log10(power[audible].mean()) + RELATIVE_GATE
        kept = audible & (loudness > relative)
        return -0.691 + 10 * math.log10(power[kept].mean())
