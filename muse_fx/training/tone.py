"""`muse-fx data tone`: is the clean corpus darker than real recordings? A model trained to reproduce a dark target
learns to darken, so the renders' long-term spectrum is compared with real clean recordings before training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.signal import welch

from muse_fx.evaluation.clips import load_mono

RATE = 16000  # paper-val's rate: the comparison is made where both have content
BANDS_HZ = ((60, 500), (500, 1000), (1000, 2000), (2000, 4000), (4000, 8000), (2000, 8000))


def band_shares_db(signal: np.ndarray, sample_rate: int = RATE) -> np.ndarray:
    """(bands,) each band's share of the 60 Hz–8 kHz energy in dB, from a Welch long-term average spectrum."""
    freqs, psd = welch(signal, sample_rate, nperseg=2048)
    total = psd[(freqs >= 60) & (freqs < 8000)].sum()
    return np.array([10 * np.log10(psd[(freqs >= lo) & (freqs < hi)].sum() / total + 1e-20) for lo, hi in BANDS_HZ])


def file_shares(files: list[Path]) -> np.ndarray:
    """(files, bands) shares, each file read as mono at 16 kHz."""
    return np.stack([band_shares_db(load_mono(path, RATE)) for path in files])


def table(groups: dict[str, np.ndarray]) -> str:
    """Markdown: mean share per band for each group of files."""
    header = ["files", "n", *(f"{lo / 1000:g}–{hi / 1000:g} kHz" for lo, hi in BANDS_HZ)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, shares in groups.items():
        lines.append("| " + " | ".join([name, str(len(shares)), *(f"{v:.1f}" for v in shares.mean(axis=0))]) + " |")
    return "\n".join(lines) + "\n"
