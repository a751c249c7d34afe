"""`muse-fx data render`: score lines → dry FluidSynth renders → 16 kHz mono FLAC + manifest.csv."""

from __future__ import annotations

import csv
import random
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import soundfile as sf
import torch
import torchaudio

from .corpus import Line, lines, split_for
from .instruments import INSTRUMENTS, Instrument
from .loudness import normalise
from .midi import midi_bytes
from .performance import perform

SAMPLE_RATE = 16000
RENDER_RATE = 32000  # FluidSynth's interpolation aliases at 16 kHz; render higher and resample
# (path, weight): MuseScore_General is an .sf3 that takes ~8 s to decompress per render, so it is drawn less.
SOUNDFONTS = (
    (Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"), 0.8),
    (Path("/usr/share/sounds/sf3/MuseScore_General.sf3"), 0.2),
)
TAIL_S = 1.0  # release time kept after the last note-off
TARGET_LOUDNESS_DB = -20.0
MANIFEST_FIELDS = ("file", "work", "instrument", "program", "soundfont", "transposition", "split", "duration")


@dataclass(frozen=True)
class Clip:
    file: str
    work: str
    instrument: str
    program: int
    soundfont: str
    transposition: int
    split: str
    duration: float


def fluidsynth(midi: bytes, soundfont: Path, seconds: float) -> torch.Tensor:
    """Render dry (reverb and chorus off) → (samples,) mono at RENDER_RATE.

    Guarded twice, because a note that never ends makes FluidSynth 2.3 render forever: a timeout, and a watch
    on the output's size (RLIMIT_FSIZE can't be used: FluidSynth trips it on start-up whatever the limit).
    """
    limit = int(2 * (seconds + 5) * RENDER_RATE * 2 * 2) + (1 << 16)
    deadline = time.monotonic() + 30 + seconds
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "line.mid", Path(tmp) / "line.wav"
        mid.write_bytes(midi)
        command = ["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.6", "-r", str(RENDER_RATE),
                   "-T", "wav", "-F", str(wav), str(soundfont), str(mid)]  # fmt: skip
        with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
            while process.poll() is None:
                too_big = wav.exists() and wav.stat().st_size > limit
                if too_big or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError(f"FluidSynth runaway render ({'size' if too_big else 'time'} limit)")
                time.sleep(0.05)
        if process.returncode:
            raise RuntimeError(f"FluidSynth failed with exit status {process.returncode}")
        data, _ = sf.read(wav, dtype="float32", always_2d=True)
    return torch.from_numpy(data).mean(dim=1)  # FluidSynth writes stereo


def render_clip(line: Line, instrument: Instrument, soundfont: Path, rng: random.Random) -> tuple[torch.Tensor, int]:
    """One line on one instrument → ((samples,) at SAMPLE_RATE, transposition)."""
    performance = perform(line, instrument, rng)
    seconds = performance.duration + TAIL_S
    audio = fluidsynth(midi_bytes(performance.events, instrument.program), soundfont, seconds)
    audio = torchaudio.functional.resample(audio[: int(seconds * RENDER_RATE)], RENDER_RATE, SAMPLE_RATE)
    return normalise(audio, SAMPLE_RATE, TARGET_LOUDNESS_DB), performance.transposition


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def render_corpus(
    out: Path,
    hours: float,
    seed: int = 0,
    soundfonts: tuple[tuple[Path, float], ...] = SOUNDFONTS,
    progress: Callable[[float], None] | None = None,
) -> list[Clip]:
    """Render until `hours` of audio exist; resumes past every work already in the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.csv"
    clips = read_manifest(manifest) if manifest.exists() else []
    done = {c.work for c in clips}
    total = sum(c.duration for c in clips)
    soundfonts = tuple((path, weight) for path, weight in soundfonts if path.exists())
    if not soundfonts:
        raise FileNotFoundError("no soundfont found; install fluid-soundfont-gm (Debian) or pass --soundfont")
    with open(manifest, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS)
        if not clips:
            writer.writeheader()
        for index, line in enumerate(lines()):
            if total >= hours * 3600:
                break
            if line.work in done:
                continue
            rng = random.Random(f"{seed}/{line.work}/{line.part}")
            instrument = rng.choice(INSTRUMENTS)
            soundfont = rng.choices([p for p, _ in soundfonts], [w for _, w in soundfonts])[0]
            name = f"{index:05d}__{_slug(line.work)}__{_slug(line.part)}__{instrument.name}.flac"
            try:
                audio, transposition = render_clip(line, instrument, soundfont, rng)
            except (subprocess.SubprocessError, OSError, RuntimeError):
                continue  # a render that hangs or fails loses one clip, never the run
            if audio.abs().max() < 1e-4:
                continue
            sf.write(out / name, audio.numpy(), SAMPLE_RATE, format="FLAC", subtype="PCM_16")
            clip = Clip(name, line.work, instrument.name, instrument.program, soundfont.name, transposition,
                        split_for(line.work), round(len(audio) / SAMPLE_RATE, 3))  # fmt: skip
            writer.writerow(asdict(clip))
            f.flush()
            clips.append(clip)
            total += clip.duration
            if progress:
                progress(clip.duration)
    return clips


def read_manifest(path: Path) -> list[Clip]:
    with open(path, newline="") as f:
        return [
            Clip(r["file"], r["work"], r["instrument"], int(r["program"]), r["soundfont"], int(r["transposition"]),
                 r["split"], float(r["duration"]))
            for r in csv.DictReader(f)
        ]
