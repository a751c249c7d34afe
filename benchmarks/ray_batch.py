"""Batch throughput on Ray against a local run, and Ray's fixed cost, on a folder of clips made on the fly.

    python benchmarks/ray_batch.py                      # 16 clips of 10 s, 44.1 kHz stereo, bundled model
    python benchmarks/ray_batch.py --clips 40 --seconds 30 --workers 1 2 4

Prints audio seconds enhanced per wall-clock second for a local run (one process; torch's default threads, then
one thread) and for a private single-node Ray cluster with 1, 2… workers (one CPU and one torch thread each),
shared paths and shipped bytes. Ray's fixed cost is reported apart: starting the cluster, and starting the workers (a
process each, importing torch and loading the model); throughput counts only the enhancing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import soundfile
import torch

from muse_fx.cli.enhance import attempt, build_board
from muse_fx.scale.batch import Job, Pool, RayBatch, start_workers
from muse_fx.scale.cluster import LOCAL, connected

RATE = 44100


def make_clips(folder: Path, count: int, seconds: float) -> list[Path]:
    rng = np.random.default_rng(0)
    clips = []
    for index in range(count):
        path = folder / f"clip{index:03d}.wav"
        soundfile.write(
            path, (rng.standard_normal((int(seconds * RATE), 2)) * 0.1).astype(np.float32), RATE, subtype="PCM_24"
        )
        clips.append(path)
    return clips


def local(make_board, clips: list[Path], out: Path) -> float:
    """Seconds to enhance `clips` in this process (the board is built first, as `muse-fx enhance` does)."""
    board = make_board()
    start = time.perf_counter()
    for clip in clips:
        assert attempt(board, clip, out / clip.name).error is None
    return time.perf_counter() - start


def on_ray(ray, make_board, clips: list[Path], out: Path, workers: int, ship: bool) -> tuple[float, float]:
    """(seconds to start the workers, seconds to enhance `clips` on them)."""
    batch = RayBatch(LOCAL, workers=workers, cpus_per_worker=1.0, gpus_per_worker=0.0, ship=ship)
    start = time.perf_counter()
    pool = Pool(ray, start_workers(ray, make_board, batch, {}, len(clips)))
    ray.get([actor.ready.remote() for actor in pool.actors])
    started = time.perf_counter()
    jobs = (Job(clip, out / clip.name, Path.cwd(), clip.read_bytes() if ship else None) for clip in clips)
    for _, (outcome, files) in pool.results(jobs):
        assert outcome.error is None, outcome.error
        for name, data in files.items():  # shipped: the driver writes what came back
            (out / name).write_bytes(data)
    finished = time.perf_counter()
    pool.stop()
    return started - start, finished - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    make_board = partial(build_board, None, model=args.model, device="cpu", musecoder="fast")
    with tempfile.TemporaryDirectory() as scratch:
        clips = make_clips(Path(scratch), args.clips, args.seconds)
        audio = args.clips * args.seconds
        print(
            f"{args.clips} clips × {args.seconds:g} s, {RATE} Hz stereo, model {args.model}, fast musecoder, CPU",
            flush=True,
        )
        for threads in (torch.get_num_threads(), 1):
            torch.set_num_threads(threads)
            seconds = local(make_board, clips, Path(tempfile.mkdtemp(dir=scratch)))
            print(f"local run, {threads} torch thread(s):   {audio / seconds:6.1f} audio s/s", flush=True)
        started = time.perf_counter()
        with connected(LOCAL) as ray:
            print(f"Ray cluster start:              {time.perf_counter() - started:6.1f} s", flush=True)
            for workers in args.workers:
                for ship in (False, True):
                    out = Path(tempfile.mkdtemp(dir=scratch))
                    startup, seconds = on_ray(ray, make_board, clips, out, workers, ship)
                    mode = "shipped bytes" if ship else "shared paths "
                    print(
                        f"Ray, {workers} worker(s), {mode}: {audio / seconds:6.1f} audio s/s "
                        f"(workers start in {startup:.1f} s)",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
