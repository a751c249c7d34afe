"""`muse-fx data render`: works arranged for solo, duet, ensemble, keyboard or drums → dry FluidSynth renders →
mono FLAC + manifest.csv, at 44.1 kHz by default so a full-band model learns what lies above 8 kHz."""

from __future__ import annotations

import csv
import itertools
import multiprocessing
import random
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import soundfile as sf
import torch
import torchaudio

from muse_fx.training.arrangement import Arrangement, arrange
from muse_fx.training.corpus import Work, split_for, works
from muse_fx.training.loudness import normalise
from muse_fx.training.midi import midi_bytes
from muse_fx.training.soundfonts import DRUM_KITS, SOUNDFONTS, Soundfont, installed

SAMPLE_RATE = 44100
MIN_RENDER_RATE = 32000  # FluidSynth's interpolation aliases at 16 kHz; render at least this high and resample
TAIL_S = 1.0  # release time kept after the last note-off
MAX_TAKES = 8  # a work is re-arranged at most this many times when the hour budget outlasts the corpus
# Scores (chorales, quartets) are a few hundred works beside thousands of tunes: each gets this many arrangements
# in the first pass, so polyphony keeps its share whatever the hour budget (one take each left it at 16 %).
SCORE_TAKES = 3
TARGET_LOUDNESS_DB = -20.0
MANIFEST_FIELDS = (
    "file",
    "work",
    "take",
    "arrangement",
    "instrument",
    "program",
    "soundfont",
    "transposition",
    "split",
    "duration",
    "sample_rate",
)


@dataclass(frozen=True)
class Clip:
    file: str
    work: str
    take: int
    arrangement: str
    instrument: str
    program: int
    soundfont: str
    transposition: int
    split: str
    duration: float
    sample_rate: int


def fluidsynth(midi: bytes, soundfont: Path, seconds: float, rate: int) -> torch.Tensor:
    """Render dry (reverb and chorus off) → (samples,) mono at `rate`.

    Guarded twice, because a note that never ends makes FluidSynth 2.3 render forever: a timeout, and a watch
    on the output's size (RLIMIT_FSIZE can't be used: FluidSynth trips it on start-up whatever the limit).
    """
    limit = int(2 * (seconds + 5) * rate * 2 * 2) + (1 << 16)
    deadline = time.monotonic() + 30 + seconds
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "line.mid", Path(tmp) / "line.wav"
        mid.write_bytes(midi)
        # Dynamic sample loading reads only the samples a render plays: a 490 MB font costs 0.1 s, not 2 s.
        command = [
            "fluidsynth",
            "-ni",
            "-q",
            "-R",
            "0",
            "-C",
            "0",
            "-g",
            "0.6",
            "-r",
            str(rate),
            "-o",
            "synth.dynamic-sample-loading=1",
            "-T",
            "wav",
            "-F",
            str(wav),
            str(soundfont),
            str(mid),
        ]
        with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
            while process.poll() is None:
                too_big = wav.exists() and wav.stat().st_size > limit
                if too_big or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError(f"FluidSynth runaway render ({'size' if too_big else 'time'} limit)")
                time.sleep(0.02)
        if process.returncode:
            raise RuntimeError(f"FluidSynth failed with exit status {process.returncode}")
        data, _ = sf.read(wav, dtype="float32", always_2d=True)
    return torch.from_numpy(data).mean(dim=1)  # FluidSynth writes stereo


def render_arrangement(arrangement: Arrangement, sample_rate: int) -> torch.Tensor:
    """Each voice rendered on its own, balanced and mixed → (samples,) at `sample_rate`, loudness-normalised."""
    rate = max(sample_rate, MIN_RENDER_RATE)
    length = int((arrangement.duration + TAIL_S) * rate)
    mix = torch.zeros(length)
    for voice in arrangement.voices:
        font = arrangement.drum_kit if voice.instrument == "drums" and arrangement.drum_kit else arrangement.soundfont
        midi = midi_bytes(voice.performance.events, voice.program, voice.channel)
        audio = fluidsynth(midi, font.path, arrangement.duration + TAIL_S, rate)[:length]
        mix[: len(audio)] += audio * 10 ** (voice.gain_db / 20)
    if rate != sample_rate:
        mix = torchaudio.functional.resample(mix, rate, sample_rate)
    return normalise(mix, sample_rate, TARGET_LOUDNESS_DB)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


@dataclass(frozen=True)
class _Job:
    index: int
    take: int
    arrangement: Arrangement
    sample_rate: int
    out: Path


def _render_job(job: _Job) -> Clip | None:
    """Render one job in a worker; a render that hangs, fails or is silent loses one clip, never the run."""
    a = job.arrangement
    name = f"{job.index:05d}-{job.take}__{_slug(a.work)}__{a.kind}__{_slug(a.instruments)[:60]}.flac"
    try:
        audio = render_arrangement(a, job.sample_rate)
    except (subprocess.SubprocessError, OSError, RuntimeError):
        return None
    if audio.abs().max() < 1e-4:
        return None
    sf.write(job.out / name, audio.numpy(), job.sample_rate, format="FLAC", subtype="PCM_16")
    first = a.voices[0]
    return Clip(
        name,
        a.work,
        job.take,
        a.kind,
        a.instruments,
        first.program,
        a.soundfont.name,
        first.performance.transposition,
        split_for(a.work),
        round(len(audio) / job.sample_rate, 3),
        job.sample_rate,
    )


def _jobs(
    out: Path,
    seed: int,
    sample_rate: int,
    done: set[tuple[str, int]],
    fonts: tuple[Soundfont, ...],
    kits: tuple[Soundfont, ...],
    submit: Callable,
) -> Iterator[_Job]:
    """Every (work, take) not yet rendered, in passes over the corpus (see `_takes`); the works are parsed once,
    in the pool."""
    for round_, index, work in corpus_passes(submit):
        for take in _takes(work, round_):
            if (work.work, take) not in done:
                rng = random.Random(f"{seed}/{work.work}/{take}")
                yield _Job(index, take, arrange(work, rng, fonts, kits), sample_rate, out)


def corpus_passes(submit: Callable) -> Iterator[tuple[int, int, Work]]:
    """(pass, index, work) for MAX_TAKES passes over the corpus: the first parses the works (in the pool that
    `submit` feeds) as they come, later passes go over the parsed ones again."""
    cached: list[Work] = []
    source = works(submit)
    for round_ in range(MAX_TAKES):
        corpus = itertools.chain(cached, source) if round_ == 0 else cached
        for index, work in enumerate(corpus):
            if round_ == 0:
                cached.append(work)
            yield round_, index, work


def _takes(work: Work, round_: int) -> range:
    """The takes a pass renders: the first pass, SCORE_TAKES of a score and one of a tune; later passes one more
    each, up to MAX_TAKES."""
    first = 1 if work.kind == "tune" else SCORE_TAKES
    if round_ == 0:
        return range(first)
    return range(first + round_ - 1, min(first + round_, MAX_TAKES))


def render_corpus(
    out: Path,
    hours: float,
    seed: int = 0,
    sample_rate: int = SAMPLE_RATE,
    soundfonts: tuple[Soundfont, ...] = SOUNDFONTS,
    workers: int = 2,
    progress: Callable[[float], None] | None = None,
) -> list[Clip]:
    """Render until `hours` of audio exist; resumes past every (work, take) already in the manifest."""
    fonts = installed(soundfonts)
    if not fonts:
        raise FileNotFoundError("no soundfont found; install fluid-soundfont-gm (Debian) or pass --soundfont")

    def jobs(done: set[tuple[str, int]], submit: Callable) -> Iterator[_Job]:
        return _jobs(out, seed, sample_rate, done, fonts, installed(DRUM_KITS), submit)

    return fill_manifest(out, hours, jobs, _render_job, workers, progress)


def fill_manifest(
    out: Path,
    hours: float,
    jobs: Callable[[set[tuple[str, int]], Callable], Iterator[Any]],
    render_job: Callable[[Any], Clip | None],
    workers: int,
    progress: Callable[[float], None] | None = None,
    start_method: str | None = None,
) -> list[Clip]:
    """Run `render_job` over `jobs(done, submit)` in `workers` processes (started by `start_method`, default
    fork), appending each clip to out/manifest.csv, until `hours` of audio exist. `done` holds the (work, take)
    pairs already listed, so a rerun resumes."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.csv"
    clips = read_manifest(manifest) if manifest.exists() else []
    total = sum(c.duration for c in clips)
    if total >= hours * 3600:
        return clips
    context = multiprocessing.get_context(start_method)
    with open(manifest, "a", newline="") as f, ProcessPoolExecutor(workers, mp_context=context) as pool:
        done = {(c.work, c.take) for c in clips}
        writer = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS)
        if not clips:
            writer.writeheader()
        in_flight: deque = deque()  # bounded, so the corpus is parsed only as fast as it is rendered
        for job in itertools.chain(jobs(done, pool.submit), [None] * 2 * workers):
            if job is not None:
                in_flight.append(pool.submit(render_job, job))
            if len(in_flight) < 2 * workers and job is not None:
                continue
            clip = in_flight.popleft().result() if in_flight else None
            if clip is None:
                continue
            writer.writerow(asdict(clip))
            f.flush()
            clips.append(clip)
            total += clip.duration
            if progress:
                progress(clip.duration)
            if total >= hours * 3600:
                pool.shutdown(cancel_futures=True)  # renders in flight are dropped: no manifest row, redone on resume
                break
    return clips


def read_manifest(path: Path) -> list[Clip]:
    """Manifests from before ensembles lack take, arrangement and sample_rate: they were 16 kHz solo lines."""
    with open(path, newline="") as f:
        return [
            Clip(
                r["file"],
                r["work"],
                int(r.get("take") or 0),
                r.get("arrangement") or "solo",
                r["instrument"],
                int(r["program"]),
                r["soundfont"],
                int(r["transposition"]),
                r["split"],
                float(r["duration"]),
                int(r.get("sample_rate") or 16000),
            )
            for r in csv.DictReader(f)
        ]
