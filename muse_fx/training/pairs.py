"""Held-out evaluation pairs: segments of one split, degraded once, written as files `muse-fx eval` reads.

Layout as in paper-val: `<id>_aug.wav` (degraded), `<id>_clean.wav` (reference) and `<id>.json` (the draws),
so the same command scores the real clips and our own test split. The id ends in the clip's arrangement (solo,
duet, ensemble, keys, drums), so polyphonic pairs can be scored on their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import soundfile as sf

from muse_fx.io.atomic import atomic_path
from muse_fx.training.data import Batches, DataConfig


def write_pairs(
    out: Path,
    config: DataConfig,
    split: str,
    count: int,
    seed: int = 0,
    sample_rate: int = 16000,
    progress: Callable[[], None] | None = None,
) -> list[str]:
    """Write `count` pairs of `split` into `out`; the same arguments write the same files. Returns their ids."""
    out.mkdir(parents=True, exist_ok=True)
    batches = Batches(config, split, sample_rate, hop=1, seed=seed)
    ids = []
    for index in range(count):
        degraded, clean, params = batches.next(1)
        pair = f"{split}-{index:04d}-{params[0]['source']['arrangement']}"  # `muse-fx eval --only '*-ensemble'`
        for suffix, audio in (("aug", degraded), ("clean", clean)):
            with atomic_path(out / f"{pair}_{suffix}.wav") as tmp:
                sf.write(tmp, audio[0].numpy(), sample_rate, subtype="FLOAT", format="WAV")
        with atomic_path(out / f"{pair}.json") as tmp:
            tmp.write_text(json.dumps(params[0], indent=1, default=float))
        ids.append(pair)
        if progress:
            progress()
    return ids
