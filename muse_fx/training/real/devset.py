"""`muse-fx data devset`: the project's real development set, in the folder format `muse-fx eval` reads.

Every clip is made of held-out sources alone (`sources.HELD_OUT`: instruments training never sees, playing works
of the corpus's held-out splits, and their own phrase and percussion recordings), degraded once with held-out real
noises (`noises.HELD_OUT_NOISES`), held-out simulated rooms (the RIR bank's validation and test rooms) and mic
band-limits. `no-harm/` holds further clean held-out takes given as their own input: a good enhancer hands them
back almost unchanged. The same arguments write the same files.
"""

from __future__ import annotations

import functools
import itertools
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf
import torch

from muse_fx.io.atomic import atomic_path
from muse_fx.training.corpus import Work, parse_file, sources, split_for
from muse_fx.training.data import bank_items
from muse_fx.training.degrade.chain import DegradeConfig, Degrader
from muse_fx.training.real.arrange import arrange_real
from muse_fx.training.real.render import as_it_is, render_arrangement
from muse_fx.training.real.sampler import SAMPLE_RATE, Sampler
from muse_fx.training.real.sources import Sample, scan

CLIP_S = 8.0
MIN_RECORDING_S = 3.0
# Clips per kind: sequenced works (stereo where several instruments or a stereo piano play) and recordings as they
# are (mono, as recorded).
DEGRADED_CLIPS = {"solo": 16, "duet": 8, "ensemble": 10, "keys": 8, "phrase": 10, "percussion": 8}
NO_HARM_CLIPS = {"solo": 6, "duet": 3, "ensemble": 4, "keys": 4, "phrase": 5, "percussion": 3}
STEREO = {"duet", "ensemble", "keys"}
# The degradations of the development set: every noise real, every room held out, mic band-limits more often than
# in training. No recording-rate step: the clean reference stays full-band.
DEV_DEGRADE = DegradeConfig(
    p_reverb=0.8,
    p_noise=1.0,
    p_real_noise=1.0,
    nsr_db=(-30.0, -8.0),
    p_second_noise=0.3,
    p_mic_eq=0.8,
    p_low_cut=0.4,
    p_band_limit=0.35,
    p_clip=0.1,
    level_db=(-35.0, -12.0),
)
HELD_OUT_ROOMS = ("validation", "test")


@dataclass(frozen=True)
class DevClip:
    id: str
    audio: torch.Tensor  # (channels, samples) at SAMPLE_RATE
    source: dict


@functools.cache
def _parse(path: Path, kind: str) -> list[Work]:
    """A corpus file parsed once per run: each kind of clip, and the no-harm set, draws from the same chorales."""
    return parse_file(path, kind)


def _held_out_works(kind: str, rng: random.Random, limit: int) -> list[Work]:
    """Works of the corpus's held-out splits: chorales for several parts, tunes for one line."""
    files = [f for f in itertools.chain(*sources()) if f[1] == ("chorale" if kind != "solo" else "tune")]
    rng.shuffle(files)
    found: list[Work] = []
    for path, file_kind in files:
        found += [w for w in _parse(path, file_kind) if split_for(w.work) != "train"]
        if len(found) >= limit:
            break
    rng.shuffle(found)
    return found[:limit]


def _window(audio: torch.Tensor, rng: random.Random) -> torch.Tensor:
    """CLIP_S seconds from a random place, padded if the take is shorter."""
    samples = int(CLIP_S * SAMPLE_RATE)
    start = rng.randrange(max(1, audio.shape[-1] - samples))
    piece = audio[:, start : start + samples]
    return torch.nn.functional.pad(piece, (0, samples - piece.shape[-1]))


def _sequenced(sampler: Sampler, kind: str, count: int, rng: random.Random) -> Iterator[DevClip]:
    present = sampler.instruments("validation")
    names = sorted(present)
    for index, work in enumerate(_held_out_works(kind, rng, count)):
        # Solos take the held-out instruments in turn, so each is heard alone.
        playing = {names[index % len(names)]: present[names[index % len(names)]]} if kind == "solo" else present
        arrangement = arrange_real(work, "validation", playing, rng, kind)
        channels = 2 if kind in STEREO else 1
        audio = _window(render_arrangement(arrangement, sampler, rng, channels), rng)
        source = {"work": work.work, "kind": arrangement.kind, "instruments": arrangement.instruments}
        yield DevClip(f"{arrangement.kind}-{index:02d}-{arrangement.instruments}", audio, source)


def _recorded(recordings: list[Sample], kind: str, count: int, rng: random.Random) -> Iterator[DevClip]:
    """Phrase or percussion recordings as they are; single hits shorter than MIN_RECORDING_S are passed over."""
    chosen = [s for s in recordings if s.kind == kind]
    rng.shuffle(chosen)
    index = 0
    for sample in chosen:
        if index == count:
            break
        audio = as_it_is(sample)
        if audio.shape[-1] < MIN_RECORDING_S * SAMPLE_RATE:
            continue
        yield DevClip(f"{kind}-{index:02d}-{sample.instrument}", _window(audio, rng), {"file": sample.path.name})
        index += 1


def dev_clips(samples: list[Sample], counts: dict[str, int], rng: random.Random) -> list[DevClip]:
    """Clean held-out clips, `counts[kind]` of each kind (fewer where the held-out sources run out)."""
    held_out = [s for s in samples if s.split == "validation"]
    sampler = Sampler(held_out)
    clips: list[DevClip] = []
    for kind, count in counts.items():
        if kind in ("phrase", "percussion"):
            clips += _recorded(held_out, kind, count, rng)
        elif sampler.instruments("validation"):
            clips += _sequenced(sampler, kind, count, rng)
    return [c for c in clips if c.audio.abs().max() > 1e-4]


def _write(folder: Path, id_: str, suffix: str, audio: torch.Tensor) -> None:
    with atomic_path(folder / f"{id_}_{suffix}.wav") as tmp:
        sf.write(tmp, audio.T.numpy(), SAMPLE_RATE, subtype="FLOAT", format="WAV")


def write_devset(
    roots: list[Path],
    rirs: Path,
    noises: Path,
    out: Path,
    seed: int = 0,
    progress: Callable[[], None] | None = None,
) -> dict[str, int]:
    """Write the degraded pairs into `out` and the no-harm pairs into `out/no-harm`; returns the counts."""
    samples = scan(roots)
    if not any(s.split == "validation" for s in samples):
        raise ValueError("none of the given libraries holds a held-out instrument (sources.HELD_OUT)")
    rooms = [bank_items(str(rirs), "rirs", split, SAMPLE_RATE) for split in HELD_OUT_ROOMS]
    recordings, _ = bank_items(str(noises), "noises", "validation", SAMPLE_RATE)
    if not recordings:
        raise ValueError(f"{noises} holds no held-out noise recording; build it with `muse-fx data noises`")
    degrader = Degrader(
        SAMPLE_RATE, DEV_DEGRADE, rooms[0][0] + rooms[1][0], rooms[0][1] + rooms[1][1], None, recordings
    )
    rng = random.Random(seed)
    no_harm = out / "no-harm"
    no_harm.mkdir(parents=True, exist_ok=True)
    for clip in dev_clips(samples, DEGRADED_CLIPS, rng):
        degraded, clean, params = degrader(clip.audio, rng)
        _write(out, clip.id, "aug", degraded)
        _write(out, clip.id, "clean", clean)
        with atomic_path(out / f"{clip.id}.json") as tmp:
            tmp.write_text(json.dumps({"source": clip.source, **params}, indent=1, default=float))
        if progress:
            progress()
    for clip in dev_clips(samples, NO_HARM_CLIPS, random.Random(f"{seed}/no-harm")):
        for suffix in ("aug", "clean"):
            _write(no_harm, clip.id, suffix, clip.audio)
        if progress:
            progress()
    return {"degraded": len(list(out.glob("*_aug.wav"))), "no-harm": len(list(no_harm.glob("*_aug.wav")))}
