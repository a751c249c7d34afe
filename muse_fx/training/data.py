"""Training batches: random segments of clean audio, degraded on the fly, as (degraded, clean) pairs."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import soundfile as sf
import torch
import torchaudio

from muse_fx.training.degrade.chain import DegradeConfig, Degrader
from muse_fx.training.loudness import loudness_db
from muse_fx.training.render import read_manifest
from muse_fx.training.synthetic import tone_sequence

SILENCE_DB = -50.0  # segments quieter than this are redrawn: nothing to learn from silence


@dataclass(frozen=True)
class DataConfig:
    clean: str = ""  # folder with manifest.csv from `muse-fx data render`; "" = synthetic tones
    rirs: str = ""  # bank from `muse-fx data rirs`; "" = no reverb
    babble: str = ""  # bank from `muse-fx data babble`; "" = no babble noise
    real: str = ""  # folder with manifest.csv from `muse-fx data real` (real instruments); "" = none
    real_share: float = 0.5  # with both `clean` and `real`: the share of segments drawn from `real`
    noises: str = ""  # bank from `muse-fx data noises` (real noise recordings, drawn at `p_real_noise`)
    segment_seconds: float = 1.536
    # Draw weight per arrangement (solo, duet, ensemble, keys, drums; absent = 1), on top of clip length: the
    # corpus has more solo lines than scores, and ensembles are what a solo-trained model damages.
    arrangement_weights: dict[str, float] = field(default_factory=dict)
    # This share of every batch is no-harm pairs, the clean take as its own input: without them every input the
    # model sees is damaged, and it changes clean recordings a lot (full-band 1.0: +6.5 dB above 8 kHz).
    no_harm_share: float = 0.0
    degrade: DegradeConfig = field(default_factory=DegradeConfig)


class ClipFile(NamedTuple):
    """One rendered clip as the sampler needs it: read from its header once, not at every draw."""

    path: Path
    frames: int
    sample_rate: int
    arrangement: str


class CleanClips:
    """A split of the rendered corpus, read segment by segment from its FLAC files (20 h at 44.1 kHz would be
    6 GB in memory); `reload()` picks up clips rendered since. Segments come at `sample_rate`, resampled when the
    corpus was rendered at another rate."""

    def __init__(self, folder: Path, split: str, sample_rate: int, arrangement_weights: dict[str, float]):
        self.folder, self.split, self.sample_rate = folder, split, sample_rate
        self.arrangement_weights = arrangement_weights
        self.clips: list[ClipFile] = []
        self.weights: list[float] = []
        self.files: set[str] = set()
        self.reload()

    def reload(self) -> None:
        for clip in read_manifest(self.folder / "manifest.csv"):
            if clip.split == self.split and clip.file not in self.files:
                path = self.folder / clip.file
                try:
                    info = sf.info(path)
                except (RuntimeError, ValueError, OSError):  # still being written: take it at the next reload
                    continue
                self.clips.append(ClipFile(path, info.frames, info.samplerate, clip.arrangement))
                self.weights.append(info.frames * self.arrangement_weights.get(clip.arrangement, 1.0))
                self.files.add(clip.file)
        if not self.clips:
            raise FileNotFoundError(f"no {self.split} clips in {self.folder / 'manifest.csv'}")

    def segment(self, samples: int, rng: random.Random) -> tuple[torch.Tensor, dict]:
        """A random (samples,) float segment and where it came from; clips are drawn in proportion to length
        times their arrangement's weight."""
        path, frames, rate, arrangement = rng.choices(self.clips, weights=self.weights)[0]
        wanted = math.ceil(samples * rate / self.sample_rate)
        start = rng.randrange(max(1, frames - wanted))
        piece = torch.from_numpy(sf.read(path, frames=wanted, start=start, dtype="float32")[0])
        if rate != self.sample_rate:
            piece = torchaudio.functional.resample(piece, rate, self.sample_rate)
        source = {"file": path.name, "start_s": round(start / rate, 3), "arrangement": arrangement}
        return torch.nn.functional.pad(piece[:samples], (0, max(0, samples - len(piece)))), source


class MixedClips:
    """Segments from several clip folders (renders and real instruments), each drawn with its share."""

    def __init__(self, sources: list[tuple[CleanClips, float]]):
        self.sources = [clips for clips, _ in sources]
        self.shares = [share for _, share in sources]

    def reload(self) -> None:
        for clips in self.sources:
            clips.reload()

    def segment(self, samples: int, rng: random.Random) -> tuple[torch.Tensor, dict]:
        return rng.choices(self.sources, weights=self.shares)[0].segment(samples, rng)


def clip_source(config: DataConfig, split: str, sample_rate: int) -> CleanClips | MixedClips | SyntheticClips:
    """The clean segments a config names: renders, real instruments, both mixed, or synthetic tones."""
    folders = [(config.clean, 1.0 - config.real_share), (config.real, config.real_share)]
    chosen = [(CleanClips(Path(f), split, sample_rate, config.arrangement_weights), w) for f, w in folders if f]
    if not chosen:
        return SyntheticClips(sample_rate)
    return chosen[0][0] if len(chosen) == 1 else MixedClips(chosen)


class SyntheticClips:
    def reload(self) -> None:
        pass

    def __init__(self, sample_rate: int):
        self.sample_rate = sample_rate

    def segment(self, samples: int, rng: random.Random) -> tuple[torch.Tensor, dict]:
        tones = tone_sequence(samples / self.sample_rate + 0.01, self.sample_rate, rng)[:samples]
        return tones, {"arrangement": "synthetic"}


def bank_items(
    path: str, key: str, split: str | None, sample_rate: int | None = None
) -> tuple[list[torch.Tensor], list[float]]:
    """A bank file's `key` items of one split (None: all), with their RT60s where the bank has them."""
    if not path:
        return [], []
    bank = torch.load(path, weights_only=False)
    if sample_rate and bank["sample_rate"] != sample_rate:
        raise ValueError(
            f"{path} was built at {bank['sample_rate']} Hz but the model trains at {sample_rate} Hz; "
            f"build one with --sample-rate {sample_rate}"
        )
    keep = [i for i in range(len(bank[key])) if split is None or bank["split"][i] == split]
    return [bank[key][i] for i in keep], [bank["rt60"][i] for i in keep] if "rt60" in bank else []


class Batches:
    """Endless (degraded, clean) batches of shape (B, samples) for one split; segment = whole hops."""

    def __init__(self, config: DataConfig, split: str, sample_rate: int, hop: int, seed: int = 0):
        self.samples = round(config.segment_seconds * sample_rate / hop) * hop
        self.sample_rate = sample_rate
        self.clips = clip_source(config, split, sample_rate)
        rirs, rt60 = bank_items(config.rirs, "rirs", split, sample_rate)
        babble, _ = bank_items(
            config.babble, "utterances", None, sample_rate
        )  # pseudo-words: nothing to leak across splits
        recordings, _ = bank_items(config.noises, "noises", split, sample_rate)  # held-out noises: validation
        self.degrader = Degrader(sample_rate, config.degrade, rirs, rt60, babble, recordings)
        self.no_harm_share = config.no_harm_share
        self.rng = random.Random(seed)

    def _clean_segment(self) -> tuple[torch.Tensor, dict]:
        for _ in range(20):
            segment, source = self.clips.segment(self.samples, self.rng)
            if loudness_db(segment, self.sample_rate) > SILENCE_DB:
                break
        return segment, source

    def next(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor, list[dict]]:
        """(degraded, clean, draws): each draw records the degradation and the clean segment's source. The last
        `no_harm_share` of the batch (rounded) are no-harm pairs."""
        segments = [self._clean_segment() for _ in range(batch_size)]
        untouched = round(self.no_harm_share * batch_size)
        pairs = [
            (self.degrader.untouched if i >= batch_size - untouched else self.degrader)(segment, self.rng)
            for i, (segment, _) in enumerate(segments)
        ]
        degraded, clean, params = zip(*pairs)
        draws = [{"source": source, **p} for (_, source), p in zip(segments, params)]
        return torch.stack(degraded), torch.stack(clean), draws
