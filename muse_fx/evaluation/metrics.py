"""The metric table: what each score is called, which way is better, and the paper's preparation of each pair."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from muse_fx.evaluation import fullband, tonal
from muse_fx.evaluation.fwsnrseg import fwsnrseg
from muse_fx.evaluation.level import level_change, loudness_change
from muse_fx.evaluation.sisdr import si_sdr
from muse_fx.evaluation.spectral import multi_resolution_stft, spectrogram_l1
from muse_fx.evaluation.visqol_score import visqol


@dataclass(frozen=True)
class Metric:
    name: str  # CSV column
    label: str  # Markdown column
    higher_is_better: bool
    score: Callable[[np.ndarray, np.ndarray, int], float]  # (clean, processed, sample_rate) → value
    full_band: bool = False  # scored at the pair's own rate; the paper's metrics are scored at 16 kHz
    summed: bool = False  # the table shows the total over clips (a count), not the mean
    keeps_level: bool = False  # scored on the trimmed pair as it is, not scaled to unit norm
    centred: bool = False  # neither way is better: an unchanged output scores 0

    @property
    def arrow(self) -> str:
        return "→0" if self.centred else "↑" if self.higher_is_better else "↓"


def _band(low: int, high: int) -> Metric:
    return Metric(
        f"lsd_{low // 1000}_{high // 1000}k",
        f"LSD {low // 1000}–{high // 1000} kHz (dB)",
        False,
        lambda c, p, sr: fullband.band_lsd(c, p, sr, (low, high)),
        full_band=True,
    )


def _change(name: str, label: str, score: Callable[[np.ndarray, np.ndarray, int], float]) -> Metric:
    """A level change: scored on the pair as it is, best at 0."""
    return Metric(name, label, False, score, full_band=True, keeps_level=True, centred=True)


METRICS = {
    m.name: m
    for m in (
        Metric("mrspec", "MR-STFT", False, lambda c, p, sr: multi_resolution_stft(c, p)),
        Metric("spec_l1", "log-spec L1", False, lambda c, p, sr: spectrogram_l1(c, p)),
        Metric("fwsnrseg", "fwSNRseg (dB)", True, fwsnrseg),
        Metric("visqol", "ViSQOL", True, visqol),
        Metric("si_sdr", "SI-SDR (dB)", True, lambda c, p, sr: si_sdr(c, p)),
        Metric("fb_mrstft", "full-band MR-STFT", False, fullband.mr_stft, full_band=True),
        *(_band(low, high) for low, high in fullband.BANDS_HZ),
        Metric("muffling", "muffling (dB)", True, fullband.muffling, full_band=True),
        Metric("muffled", "muffled clips", False, fullband.muffled, full_band=True, summed=True),
        Metric("holes", "holes (%)", False, fullband.holes, full_band=True),
        Metric("noise_floor", "noise floor (dB)", False, fullband.noise_floor, full_band=True),
        Metric("colouring", "colouring > 1 kHz (dB)", False, tonal.colouring, full_band=True, keeps_level=True),
        _change("level", "level change (dB)", level_change),
        _change("loudness", "loudness change (LU)", loudness_change),
    )
}


def unit_norm(signal: np.ndarray) -> np.ndarray:
    """float64 copy with L2 norm 1 (silence stays silence)."""
    return signal.astype(np.float64) / max(np.linalg.norm(signal), np.finfo(np.float64).tiny)


def prepare_pair(clean: np.ndarray, processed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trim the pair to its common length, then scale each to unit L2 norm — the paper's `trim_samples` and
    `normalize`, so level and a vocoder's few missing tail samples do not count."""
    n = min(len(clean), len(processed))
    return unit_norm(clean[:n]), unit_norm(processed[:n])


def score_pair(clean: np.ndarray, processed: np.ndarray, sample_rate: int, metrics: Sequence[Metric]) -> dict:
    """{metric name: value} for one (samples,) pair at `sample_rate`."""
    n = min(len(clean), len(processed))
    as_is = clean[:n].astype(np.float64), processed[:n].astype(np.float64)
    scaled = prepare_pair(clean, processed)
    scores = {}
    for metric in metrics:
        c, p = as_is if metric.keeps_level else scaled
        scores[metric.name] = metric.score(c, p, sample_rate)
    return scores
