"""`muse-fx data real`: real instrument recordings → mono 44.1 kHz FLAC + manifest.csv, in the format `data render`
writes, so the trainer reads either folder (or both: `[data] real`).

Three kinds of clip, interleaved so a partial run is already varied: works of the music21 corpus played by the
sampler (`sampler.py`) on each split's instruments, strummed chord progressions, and the libraries' own phrase and
percussion recordings, used as they are. A clip's split is its instruments' (`sources.HELD_OUT`); a work of the
corpus's validation or test split is played on held-out instruments, every other work on training ones, so the
held-out clips share neither instruments nor works with training.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf
import torch

from muse_fx.training.corpus import _interleave, split_for
from muse_fx.training.loudness import normalise
from muse_fx.training.real.arrange import RealArrangement, arrange_real, strumming
from muse_fx.training.real.sampler import SAMPLE_RATE, Sampler, read_recording
from muse_fx.training.real.sources import Sample, scan
from muse_fx.training.render import TARGET_LOUDNESS_DB, Clip, corpus_passes, fill_manifest

STRUM_TAKES = 60  # strummed progressions drawn at most (15-35 s each): one guitar, kept to a small share
SILENT = 1e-4


@functools.lru_cache(maxsize=1)
def _sampler(roots: tuple[Path, ...]) -> Sampler:
    """One sampler per worker process, built from the clones on first use (a scan takes a fraction of a second)."""
    return Sampler(scan(list(roots)))


def render_arrangement(
    arrangement: RealArrangement, sampler: Sampler, rng: random.Random, channels: int = 1
) -> torch.Tensor:
    """Each voice played by the sampler, balanced (and in stereo spread across the field) → (channels, samples),
    loudness-normalised."""
    voices = arrangement.voices
    pans = [0.0] if len(voices) == 1 else [-0.6 + 1.2 * i / (len(voices) - 1) for i in range(len(voices))]
    played = [
        sampler.play(v.instrument, v.performance.events, rng, channels, pan) * 10 ** (v.gain_db / 20)
        for v, pan in zip(voices, pans)
    ]
    mix = torch.zeros(channels, max(p.shape[-1] for p in played))
    for audio in played:
        mix[:, : audio.shape[-1]] += audio
    return normalise(mix, sampler.sample_rate, TARGET_LOUDNESS_DB)


def as_it_is(sample: Sample, sample_rate: int = SAMPLE_RATE, channels: int = 1) -> torch.Tensor:
    """A phrase or percussion recording → (channels, samples), loudness-normalised."""
    audio = read_recording(sample.path, sample_rate)
    audio = audio.mean(0, keepdim=True) if channels == 1 else audio.expand(2, -1) if audio.shape[0] == 1 else audio
    return normalise(audio, sample_rate, TARGET_LOUDNESS_DB)


@dataclass(frozen=True)
class _Job:
    roots: tuple[Path, ...]
    out: Path
    index: int
    work: str
    take: int
    split: str
    arrangement: RealArrangement | None = None  # sequenced by the sampler
    recording: Sample | None = None  # used as it is


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text)


def _render_job(job: _Job) -> Clip | None:
    """One clip in a worker; an unreadable or silent recording loses that clip, never the run."""
    sampler = _sampler(job.roots)
    rng = random.Random(f"{job.work}/{job.take}")
    try:
        if job.arrangement is not None:
            kind, instruments = job.arrangement.kind, job.arrangement.instruments
            audio = render_arrangement(job.arrangement, sampler, rng)[0]
        elif job.recording is not None:
            kind, instruments = job.recording.kind, job.recording.instrument
            audio = as_it_is(job.recording, sampler.sample_rate)[0]
        else:
            raise AssertionError("a job plays an arrangement or a recording")
    except ValueError:
        return None
    if audio.abs().max() < SILENT:
        return None
    name = f"{job.index:05d}-{job.take}__{_slug(job.work)}__{kind}__{_slug(instruments)[:60]}.flac"
    sf.write(job.out / name, audio.numpy(), sampler.sample_rate, format="FLAC", subtype="PCM_16")
    sources = "+".join(sorted({s.source for v in instruments.split("+") for s in sampler.notes.get(v, [])[:1]}))
    return Clip(
        name,
        job.work,
        job.take,
        kind,
        instruments,
        -1,
        sources or (job.recording.source if job.recording else ""),
        0,
        job.split,
        round(len(audio) / sampler.sample_rate, 3),
        sampler.sample_rate,
    )


def _score_jobs(roots, out, samples, seed, done, submit) -> Iterator[_Job]:
    """Corpus works on the sampler's instruments, take after take (as `data render` does)."""
    sampler = Sampler(samples)
    present = {split: sampler.instruments(split) for split in ("train", "validation")}
    for take, index, work in corpus_passes(submit):
        split = "train" if split_for(work.work) == "train" else "validation"
        if (work.work, take) in done or not present[split]:
            continue
        rng = random.Random(f"{seed}/real/{work.work}/{take}")
        arrangement = arrange_real(work, split, present[split], rng)
        yield _Job(roots, out, index, work.work, take, split, arrangement=arrangement)


def _recording_jobs(roots, out, samples, seed, done) -> Iterator[_Job]:
    """The phrase and percussion recordings in a seeded order, so a partial run has every instrument."""
    recordings = [s for s in samples if s.kind in ("phrase", "percussion")]
    random.Random(f"{seed}/recordings").shuffle(recordings)
    for index, s in enumerate(recordings):
        work = f"{s.source}/{s.instrument}/{s.path.stem}"
        if (work, 0) not in done:
            yield _Job(roots, out, index, work, 0, s.split, recording=s)


def _strum_jobs(roots, out, samples, seed, done) -> Iterator[_Job]:
    strums = [s for s in samples if s.kind == "strum"]
    if not strums:
        return
    chords = 1 + max(s.pitch or 0 for s in strums)
    for index in range(STRUM_TAKES):
        work = f"strums/{index}"
        if (work, 0) not in done:
            arrangement = strumming(work, chords, random.Random(f"{seed}/{work}"))
            yield _Job(roots, out, index, work, 0, strums[0].split, arrangement=arrangement)


def render_real(
    roots: list[Path],
    out: Path,
    hours: float,
    seed: int = 0,
    workers: int = 2,
    progress: Callable[[float], None] | None = None,
) -> list[Clip]:
    """Write clips until `hours` of audio exist; resumes past every (work, take) already in the manifest."""
    samples = scan(roots)
    frozen = tuple(roots)

    def jobs(done: set[tuple[str, int]], submit: Callable) -> Iterator[_Job]:
        return _interleave(
            [
                _score_jobs(frozen, out, samples, seed, done, submit),
                _recording_jobs(frozen, out, samples, seed, done),
                _strum_jobs(frozen, out, samples, seed, done),
            ]
        )

    # Forked workers hang once the parent has run soxr's or torch's threads (a test run, a notebook): start clean.
    return fill_manifest(out, hours, jobs, _render_job, workers, progress, start_method="forkserver")
