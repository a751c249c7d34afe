"""Scale-invariant SDR (Le Roux et al. 2019): not in the paper, but the usual waveform-fidelity number today."""

from __future__ import annotations

import numpy as np


def si_sdr(clean: np.ndarray, processed: np.ndarray) -> float:
    """SI-SDR in dB (higher is better) of two zero-meaned (samples,) signals."""
    c = clean.astype(np.float64) - clean.mean()
    p = processed.astype(np.float64) - processed.mean()
    target = (p @ c) / max(c @ c, np.finfo(np.float64).tiny) * c
    residual = p - target
    eps = np.finfo(np.float64).eps
    return float(10 * np.log10((target @ target + eps) / (residual @ residual + eps)))
