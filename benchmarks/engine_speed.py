"""Engine speed and memory: real-time factors of each stage, the whole pipeline, and the paper's own loop.

    python benchmarks/engine_speed.py                 # paper-size model (random init: speed only), CPU
    python benchmarks/engine_speed.py --model default # the bundled model
    python benchmarks/engine_speed.py --device cuda --seconds 60

Stage rows use --model; the paper's loop always runs the paper-size model, since that is the paper's system.
RTF = seconds of compute per second of audio (lower is faster); "× real time" = 1 / RTF. The paper's loop is
re-implemented faithfully from its generate_from_wav script: 16 kHz mono, 47360-sample chunks one at a time
(tail dropped), mel2mel then 50 DiffWave steps per chunk; a stereo file runs it once per channel.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
import torch

from muse_fx import MuseEnhance
from muse_fx.engine import diffusion
from muse_fx.engine.devices import resolve_device
from muse_fx.engine.model_config import FULL_BAND, FULL_BAND_SINGLE, PAPER
from muse_fx.engine.muse_model import MuseModel

PAPER_CHUNK = 47360
RANDOM_INIT = {"paper": PAPER, "full-band": FULL_BAND, "full-band-single": FULL_BAND_SINGLE}  # speed only: as trained


def build(model: str, device: torch.device) -> MuseModel:
    if model in RANDOM_INIT:
        torch.manual_seed(0)
        return MuseModel(RANDOM_INIT[model]).to(device).eval()
    from muse_fx.engine.weights import load_model

    return load_model(model, device)


def timed(fn, device: torch.device, repeats: int = 1, warmup: bool = True) -> float:
    if warmup:  # kernels, resampler tables; the slow diffusion stages skip it, earlier stages warmed up
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


@torch.inference_mode()
def paper_loop(model: MuseModel, audio16: torch.Tensor) -> torch.Tensor:
    """generate_from_wav: per channel, per 47360-sample chunk, mel → mel2mel → 50-step DiffWave, concatenated."""
    schedule = diffusion.schedule_for(model.config.musecoder, 50)
    outputs = []
    for channel in audio16:
        pieces = []
        for start in range(0, len(channel) - PAPER_CHUNK + 1, PAPER_CHUNK):
            chunk = channel[start : start + PAPER_CHUNK].unsqueeze(0)
            mel = model.mel2mel(model.log_mel(chunk).unsqueeze(1)).squeeze(1)
            pieces.append(diffusion.sample(model.musecoder, mel, schedule, [torch.Generator().manual_seed(start)]))
        outputs.append(torch.cat(pieces, dim=1))
    return torch.cat(outputs)


def stage_rows(args, device: torch.device) -> list[tuple[str, float, float]]:
    model = build(args.model, device)
    rate, seconds = 44100, args.seconds
    audio = (np.random.default_rng(0).standard_normal((2, int(seconds * rate))) * 0.1).astype(np.float32)
    audio16 = torch.randn(2, int(seconds * 16000), device=device) * 0.1
    at_model_rate = torch.randn(2, int(seconds * model.sample_rate), device=device) * 0.1
    khz = f"{model.sample_rate / 1000:g} kHz"
    rows = []

    def add(name, duration, fn, repeats=1, warmup=True):
        spent = timed(fn, device, repeats, warmup)
        rows.append((name, spent / duration, duration))
        print(f"  measured {name}: {spent:.2f} s for {duration:.1f} s of audio", file=sys.stderr)

    with torch.inference_mode():
        mel = model.log_mel(at_model_rate)
        add(f"mel2mel ({khz}, 2 ch)", seconds, lambda: model.mel2mel(mel.unsqueeze(1)), 2)
        if model.musecoder is None:
            pipeline_rows(args, model, device, audio, add)
            return rows
        mel = model.log_mel(audio16)
        short = mel[..., : int(args.diffusion_seconds * 16000 / 256)]
        warm = diffusion.schedule_for(model.config.musecoder, 6)  # a short warm-up instead of a full repeat
        diffusion.sample(model.musecoder, short[..., :64], warm, [torch.Generator() for _ in range(short.shape[0])])
        for steps in (6, 50):
            schedule = diffusion.schedule_for(model.config.musecoder, steps)
            add(
                f"musecoder diffusion {steps} steps (16 kHz, 2 ch)",
                args.diffusion_seconds,
                lambda schedule=schedule: diffusion.sample(
                    model.musecoder, short, schedule, [torch.Generator().manual_seed(i) for i in range(short.shape[0])]
                ),
                warmup=False,
            )
    pipeline_rows(args, model, device, audio, add)
    if not args.skip_paper_loop:
        # The loop runs channel after channel, so stereo costs exactly twice mono; by default mono is timed and
        # doubled (it is the slowest stage by far); --paper-loop-channels 2 times stereo outright.
        channels = args.paper_loop_channels
        clip16 = audio16[
            :channels, : max(PAPER_CHUNK, int(args.diffusion_seconds * 16000) // PAPER_CHUNK * PAPER_CHUNK)
        ]
        paper_model = build("paper", device)  # the paper's system is paper-size, whatever --model is
        spent = timed(lambda: paper_loop(paper_model, clip16), device, warmup=False)
        rtf = spent / (clip16.shape[1] / 16000) * (2 / channels)  # per second of stereo audio
        rows.append(("paper's loop (paper-size model), 50 steps, one 47360-sample chunk at a time, stereo", rtf, 0))
        print(
            f"  measured paper's loop: {spent:.1f} s for {clip16.shape[1] / 16000:.2f} s of {channels}-channel audio",
            file=sys.stderr,
        )
    return rows


def pipeline_rows(args, model: MuseModel, device: torch.device, audio: np.ndarray, add) -> None:
    """The whole pipeline on 44.1 kHz stereo: fast, and diffusion where the model has a musecoder."""
    pipelines = [("fast", 6, args.seconds)]
    if model.musecoder is not None:
        pipelines += [("diffusion", 6, args.diffusion_seconds)] + [
            ("diffusion", 50, args.diffusion_seconds)
        ] * args.full
    for musecoder, steps, duration in pipelines:
        enhancer = MuseEnhance(model=model, musecoder=musecoder, steps=steps, device=str(device))
        clip = audio[:, : int(duration * 44100)]
        add(
            f"whole pipeline, {musecoder}{'' if musecoder == 'fast' else f' {steps} steps'} (44.1 kHz stereo)",
            duration,
            lambda enhancer=enhancer, clip=clip: enhancer(clip, 44100),
            warmup=musecoder == "fast",
        )


def peak_memory_mib(model: str, device: str, minutes: float, musecoder: str, folder: Path) -> float:
    """Peak resident memory of a fresh process enhancing a `minutes`-long 44.1 kHz stereo file, file to file."""
    source = folder / f"{minutes}min.wav"
    frames = int(minutes * 60 * 44100)
    with soundfile.SoundFile(str(source), "w", 44100, 2, "PCM_16") as f:
        for start in range(0, frames, 44100 * 30):
            n = min(44100 * 30, frames - start)
            f.write((np.random.default_rng(start).standard_normal((n, 2)) * 0.1).astype(np.float32))
    code = f"""
import resource, torch
from pathlib import Path
from benchmarks.engine_speed import build
from muse_fx import MuseEnhance
from muse_fx.engine.devices import resolve_device
from muse_fx.files import enhance_file
device = resolve_device({device!r})
enhancer = MuseEnhance(model=build({model!r}, device), musecoder={musecoder!r}, device=str(device))
enhance_file(enhancer, Path({str(source)!r}), Path({str(folder / "out.wav")!r}), overwrite=True)
if device.type == 'cuda':
    print(torch.cuda.max_memory_allocated() / 2**20)
else:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="paper", help='"paper" (paper-size, random init), a registry name or a path')
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seconds", type=float, default=30.0, help="audio length for the cheap stages")
    parser.add_argument("--diffusion-seconds", type=float, default=3.0, help="audio length for diffusion stages")
    parser.add_argument("--skip-paper-loop", action="store_true")
    parser.add_argument(
        "--paper-loop-channels",
        type=int,
        default=1,
        choices=(1, 2),
        help="channels the paper's loop really runs (stereo cost = 2× mono: it is sequential)",
    )
    parser.add_argument("--full", action="store_true", help="also time the whole pipeline at 50 diffusion steps")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    device = resolve_device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    rows = stage_rows(args, device)
    print(f"\nmuse_fx engine benchmark — model: {args.model}, device: {name}\n")
    print("| stage | RTF (s per s of audio) | × real time |\n|---|---:|---:|")
    for stage, rtf, _ in rows:
        print(f"| {stage} | {rtf:.4f} | {1 / rtf:.1f} |")
    by_name = {stage: rtf for stage, rtf, _ in rows}
    fast = next(r for s, r in by_name.items() if s.startswith("whole pipeline, fast"))
    print(f"\n- fast path, 44.1 kHz stereo: {1 / fast:.1f}× real time (target ≥ 4×)")
    if "musecoder diffusion 6 steps (16 kHz, 2 ch)" in by_name:
        d6 = by_name["musecoder diffusion 6 steps (16 kHz, 2 ch)"]
        d50 = by_name["musecoder diffusion 50 steps (16 kHz, 2 ch)"]
        print(f"- 6-step vs 50-step diffusion: {d50 / d6:.1f}× faster (target ≥ 8×)")
    if not args.skip_paper_loop:
        paper = next(r for s, r in by_name.items() if s.startswith("paper's loop"))
        print(f"- whole pipeline, fast, vs the paper's loop: {paper / fast:.0f}× faster (target ≥ 50×)")
        whole6 = next((r for s, r in by_name.items() if s.startswith("whole pipeline, diffusion 6")), None)
        if whole6:
            print(f"- whole pipeline, diffusion 6 steps vs the paper's loop: {paper / whole6:.1f}× faster")
    memory = {}
    if not args.skip_memory:
        default = "fast" if device.type == "cpu" else "diffusion"
        with tempfile.TemporaryDirectory() as folder:
            for minutes in (1, 10):
                memory[minutes] = peak_memory_mib(args.model, args.device, minutes, default, Path(folder))
        print(
            f"- peak memory, file to file ({default}): 1 min {memory[1]:.0f} MiB, 10 min {memory[10]:.0f} MiB, "
            f"ratio {memory[10] / memory[1]:.2f} (target ≤ 1.5)"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": name, "model": args.model, "rows": rows, "memory_mib": memory}, f, indent=2)


if __name__ == "__main__":
    main()
