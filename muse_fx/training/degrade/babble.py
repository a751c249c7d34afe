"""The babble bank: short utterances spoken by espeak-ng in several languages and voices, rendered once."""

from __future__ import annotations

import random
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import soundfile as sf
import torch
import torchaudio

LANGUAGES = ("en", "en-us", "de", "fr", "es", "it", "nl", "pt", "pl", "sv")
VARIANTS = ("", "+m1", "+m3", "+m5", "+f1", "+f2", "+f4", "+klatt2")
SYLLABLES = ("ka", "lo", "mi", "ten", "ra", "sul", "ve", "na", "dor", "pe", "im", "tho", "gra", "shi", "bun", "el")


def _text(rng: random.Random) -> str:
    """Pseudo-words: babble should be speech-like but never intelligible, and needs no text corpus."""
    words = ("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(12, 30)))
    return " ".join(words) + "."


def speak(text: str, voice: str, speed: int, pitch: int, sample_rate: int) -> torch.Tensor:
    """espeak-ng → (samples,) at `sample_rate`."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        command = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), text]
        subprocess.run(command, check=True, capture_output=True, timeout=60)
        data, rate = sf.read(wav, dtype="float32")
    audio = torch.from_numpy(data)
    return torchaudio.functional.resample(audio, rate, sample_rate) if rate != sample_rate else audio


def build_bank(count: int, sample_rate: int, seed: int = 0, progress: Callable[[], None] | None = None) -> dict:
    """→ {"sample_rate", "utterances": [(samples,) tensors], "voices": [str]}."""
    rng = random.Random(seed)
    bank: dict = {"sample_rate": sample_rate, "utterances": [], "voices": []}
    for _ in range(count):
        voice = rng.choice(LANGUAGES) + rng.choice(VARIANTS)
        audio = speak(_text(rng), voice, rng.randint(130, 220), rng.randint(20, 80), sample_rate)
        bank["utterances"].append(audio)
        bank["voices"].append(voice)
        if progress:
            progress()
    return bank
