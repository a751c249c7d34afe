"""`muse-fx data noises`: a bank of real noise recordings (rain, wind, rivers, waves, crowds, fans, dryers, subway,
street, vinyl hiss) from local copies, for the Degrader to draw beside its synthetic noises (`p_real_noise`).

Recognised by layout, as the instrument libraries are: Tonejs/audio's `berklee/` (CC-BY 3.0, cut at 16.5 kHz: the
Degrader lays a faint wideband hiss beside every real noise so no band is left noise-free), 0 A.D.'s ambient sounds
inside Debian's `0ad-data` (`/usr/share/games/0ad/mods/public`, CC-BY-SA 3.0) and Sonic Pi's vinyl hiss (CC0).
`HELD_OUT_NOISES` are never drawn in training: they degrade the development set.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
import torch

MAX_NOISE_S = 30.0  # each recording is kept to this (after SKIP_S): a bank of a few hundred MB at most
SKIP_S = 0.5  # fade-ins at the start of a file
# Steady or swinging backgrounds of berklee/ by file name; one-off bangs, toys and synth effects are left out.
BERKLEE_NOISES = re.compile(
    r"^(fan|dryer|clothesdryer|hair-dryer|boston_subway|subwaytrain|underground|train\d|train_passing|street_noise"
    r"|crowd|laughing_crowd|hallwaynoises|background_noise|ambiance|ambient_(machine|rain)|rain(_\d|\+thunder|_white)|storm_water"
    r"|running_water|waterfall|water_tap_long|engine_noise|car_engine|electric_noise|aircompressor|airblower"
    r"|waterpump_electric|walking_in_trainstation)",
    re.IGNORECASE,
)
HELD_OUT_NOISES = {  # file stems: one or more of each kind, for the development set alone
    "crowd5": "crowd",
    "laughing_crowd": "crowd",
    "rain_1": "rain",
    "fan_long_1": "fan",
    "dryer2": "dryer",
    "boston_Subway_4": "subway",
    "street_noise_1": "street",
    "hallwaynoises3": "indoor",
    "rain_12": "rain",
    "wave_21": "waves",
    "river_med_21": "river",
    "windleaves_11": "wind",
    "amb_port_21": "crowd",
    "day_temperate_14": "outdoor",
}


@dataclass(frozen=True)
class NoiseFile:
    name: str  # e.g. "berklee/crowd5"
    source: str
    read: Callable[[], tuple[np.ndarray, int]]  # → (samples, channels) float32, sample rate

    @property
    def split(self) -> str:
        return "validation" if self.name.rsplit("/", 1)[-1] in HELD_OUT_NOISES else "train"


def _file(path: Path) -> Callable[[], tuple[np.ndarray, int]]:
    return lambda: sf.read(str(path), dtype="float32", always_2d=True)


def berklee(root: Path) -> Iterator[NoiseFile]:
    for path in sorted((root / "berklee").glob("*.mp3")):
        if BERKLEE_NOISES.match(path.stem):
            yield NoiseFile(f"berklee/{path.stem}", "Tonejs/audio berklee (CC-BY 3.0)", _file(path))


def zero_ad(root: Path) -> Iterator[NoiseFile]:
    """0 A.D.'s ambient .ogg files, read from inside the mod archive."""
    archive = zipfile.ZipFile(root / "public.zip")
    for member in sorted(n for n in archive.namelist() if n.startswith("audio/ambient/") and n.endswith(".ogg")):

        def read(member: str = member) -> tuple[np.ndarray, int]:
            return sf.read(io.BytesIO(archive.read(member)), dtype="float32", always_2d=True)

        yield NoiseFile(f"0ad/{Path(member).stem}", "0 A.D. ambient (CC-BY-SA 3.0)", read)


def sonic_pi(root: Path) -> Iterator[NoiseFile]:
    for path in sorted(root.glob("vinyl_hiss.flac")):
        yield NoiseFile(f"sonic-pi/{path.stem}", "Sonic Pi samples (CC0)", _file(path))


NOISE_LAYOUTS: tuple[tuple[str, str, Callable[[Path], Iterator[NoiseFile]]], ...] = (
    ("Tonejs/audio", "berklee/crowd*.mp3", berklee),
    ("0ad-data", "public.zip", zero_ad),
    ("sonic-pi-samples", "vinyl_hiss.flac", sonic_pi),
)


def scan_noises(roots: list[Path]) -> list[NoiseFile]:
    files: list[NoiseFile] = []
    for root in roots:
        layout = next((lay for lay in NOISE_LAYOUTS if next(root.glob(lay[1]), None) is not None), None)
        if layout is None:
            known = ", ".join(name for name, _, _ in NOISE_LAYOUTS)
            raise ValueError(f"{root}: not a known noise source (expected one of: {known}; see training/README.md)")
        files.extend(layout[2](root))
    return files


def _mono(noise: NoiseFile, sample_rate: int) -> torch.Tensor:
    data, rate = noise.read()
    data = data[int(SKIP_S * rate) :][: int(MAX_NOISE_S * rate)].mean(axis=1)
    if rate != sample_rate:
        data = soxr.resample(data, rate, sample_rate)
    return torch.from_numpy(np.ascontiguousarray(data))


def build_noise_bank(roots: list[Path], sample_rate: int, progress: Callable[[], None] | None = None) -> dict:
    """→ {"sample_rate", "noises": [(samples,) float16 tensors, unit RMS], "names", "sources", "split"}."""
    bank: dict = {"sample_rate": sample_rate, "noises": [], "names": [], "sources": [], "split": []}
    for noise in scan_noises(roots):
        audio = _mono(noise, sample_rate)
        rms = float(audio.pow(2).mean().sqrt())
        if len(audio) > sample_rate and rms > 1e-5:  # a silent or tiny file is no noise to learn from
            bank["noises"].append((audio / rms).to(torch.float16))
            bank["names"].append(noise.name)
            bank["sources"].append(noise.source)
            bank["split"].append(noise.split)
        if progress:
            progress()
    return bank
