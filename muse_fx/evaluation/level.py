"""Level changes a listener hears, scored on the pair as it is (not scaled to unit norm as the other metrics are):
the broadband power change in dB and the BS.1770 loudness change in LU."""

from __future__ import annotations

import math

import numpy as np

from muse_fx.loudness import integrated_loudness


def level_change(clean: np.ndarray, processed: np.ndarray, sample_rate: int) -> float:
    """dB of the output's mean power over the clean's: 0 for an unchanged level. NaN when the clean is silent."""
    reference = float(np.square(clean).sum())
    if reference == 0:
        return math.nan
    return 10 * math.log10(max(float(np.square(processed).sum()), np.finfo(np.float64).tiny) / reference)


def loudness_change(clean: np.ndarray, processed: np.ndarray, sample_rate: int) -> float:
    """LU of the output's integrated loudness over the clean's; NaN when the clean is silent or under 0.4 s."""
    reference = integrated_loudness(clean[None], sample_rate)
    return integrated_loudness(processed[None], sample_rate) - reference if math.isfinite(reference) else math.nan
