"""Finding and reading evaluation clips: a folder of `<id>_aug.wav` (degraded), `<id>_clean.wav` (reference) and
optional `<id>_<system>.wav` outputs of other systems."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from muse_fx.io.audio_files import read_audio

METRIC_RATE = 16000  # the paper scored at 16 kHz, and fwSNRseg's critical bands stop below 4 kHz anyway
DEGRADED, CLEAN = "aug", "clean"
# The paper's demo outputs (see paper-val/README.md in the shared eval folder): its full system gets the short name.
ALIASES = {"mel2mel_diffwave": "paper"}


@dataclass(frozen=True)
class Clip:
    id: str
    degraded: Path
    clean: Path
    systems: dict[str, Path] = field(default_factory=dict)  # precomputed outputs, by system name


def find_clips(folder: str | Path) -> list[Clip]:
    """Every `<id>_aug.wav` with its `<id>_clean.wav` and `<id>_*.wav` outputs, sorted by id."""
    folder = Path(folder)
    stems = {p.stem: p for p in folder.glob("*.wav")}
    ids = sorted(s[: -len(DEGRADED) - 1] for s in stems if s.endswith("_" + DEGRADED))
    missing = [i for i in ids if f"{i}_{CLEAN}" not in stems]
    if missing:
        raise FileNotFoundError(
            f"{folder}: no clean reference for {', '.join(f'{i}_{DEGRADED}.wav' for i in missing)}"
            f" — each needs its <id>_{CLEAN}.wav"
        )
    systems: dict[str, dict[str, Path]] = {i: {} for i in ids}
    for stem, path in stems.items():
        owners = [i for i in ids if stem.startswith(i + "_")]
        if not owners:
            continue
        owner = max(owners, key=len)  # "a_1" owns "a_1_x.wav" even when clip "a" exists
        name = stem[len(owner) + 1 :]
        if name not in (DEGRADED, CLEAN):
            systems[owner][ALIASES.get(name, name)] = path
    return [Clip(i, stems[f"{i}_{DEGRADED}"], stems[f"{i}_{CLEAN}"], systems[i]) for i in ids]


def load_mono(path: Path, sample_rate: int = METRIC_RATE) -> np.ndarray:
    """(samples,) float64 at `sample_rate`: channels averaged, resampled when the file's rate differs."""
    audio, info = read_audio(path)
    return resampled(audio.mean(axis=0, dtype=np.float64), info.sample_rate, sample_rate)


def resampled(signal: np.ndarray, source: int, target: int) -> np.ndarray:
    return AF.resample(torch.from_numpy(signal), source, target).numpy() if source != target else signal


def to_metric_rate(signal: np.ndarray, sample_rate: int) -> np.ndarray:
    """The 16 kHz copy the paper's metrics score."""
    return resampled(signal, sample_rate, METRIC_RATE)


def file_rate(path: Path) -> int:
    return sf.info(str(path)).samplerate
