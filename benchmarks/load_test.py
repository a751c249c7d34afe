"""Load test for `muse-fx serve`: N concurrent clients send clips of mixed lengths; prints requests/s and latency.

    python benchmarks/load_test.py                       # in-process server, random-init CPU_SMALL model
    python benchmarks/load_test.py --url http://gpu:8765 --clients 1,8,32 --requests 64

Weights do not change the cost of a forward pass, so without --model a random-init model of the laptop
architecture (config.CPU_SMALL) stands in for trained weights. Every answer is checked for shape and finiteness.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import torch

from muse_fx.backends.client import ServerClient
from muse_fx.engine.model_config import CPU_SMALL
from muse_fx.engine.muse_model import MuseModel
from muse_fx.engine.weights import save_model


def local_server(model: str | None, device: str, max_requests: int, stack: ExitStack) -> str:
    """Start `muse-fx serve` in a subprocess (so the clients here do not share its interpreter); returns its URL."""
    if model is None:
        torch.manual_seed(0)
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        model = str(save_model(MuseModel(CPU_SMALL), folder / "cpu_small.safetensors"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-c",
        "from muse_fx.cli.serve import serve; serve()",
        "--model",
        model,
        "--device",
        device,
        "--port",
        str(port),
        "--max-requests",
        str(max_requests),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stack.callback(server.wait)
    stack.callback(server.terminate)
    url = f"http://127.0.0.1:{port}"
    with ServerClient(url, retries=8, backoff=0.25) as client:
        client.health()  # retried until the server answers
    return url


def clips(count: int, lengths: list[float], rate: int) -> list[np.ndarray]:
    """Stereo noise clips cycling through `lengths` seconds."""
    rng = np.random.default_rng(0)
    return [
        (rng.standard_normal((2, round(lengths[i % len(lengths)] * rate))) * 0.1).astype(np.float32)
        for i in range(count)
    ]


def one(url: str, audio: np.ndarray, rate: int, params: dict) -> tuple[float, bool]:
    started = time.perf_counter()
    with ServerClient(url, retries=5) as client:
        out = client.enhance_array(audio, rate, **params)
    return time.perf_counter() - started, out.shape == audio.shape and bool(np.isfinite(out).all())


def level(url: str, clients: int, audio: list[np.ndarray], rate: int, params: dict) -> dict:
    with ServerClient(url) as client:
        before = client.health()["batching"]
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(lambda a: one(url, a, rate, params), audio))
        wall = time.perf_counter() - started
        after = client.health()["batching"]
    latencies = np.array([latency for latency, _ in results])
    passes = max(1, after["passes"] - before["passes"])
    return {
        "clients": clients,
        "requests": len(audio),
        "ok": sum(ok for _, ok in results),
        "req/s": len(audio) / wall,
        "audio s/s": sum(a.shape[1] for a in audio) / rate / wall,
        "p50 s": float(np.percentile(latencies, 50)),
        "p95 s": float(np.percentile(latencies, 95)),
        "chunks/pass": (after["chunks"] - before["chunks"]) / passes,
        "jobs/pass": (after["jobs"] - before["jobs"]) / passes,
    }


def table(rows: list[dict]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        lines.append("| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row.values()) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server; default: start one in this process")
    parser.add_argument("--model", help="model for the in-process server (name or .safetensors path)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--clients", default="1,4,8", help="comma-separated concurrency levels")
    parser.add_argument("--requests", type=int, default=16, help="requests per level")
    parser.add_argument("--lengths", default="1,3,6,12", help="clip lengths in seconds, cycled")
    parser.add_argument("--rate", type=int, default=44100)
    parser.add_argument("--musecoder", default="fast")
    args = parser.parse_args()
    levels = [int(n) for n in args.clients.split(",")]
    audio = clips(args.requests, [float(s) for s in args.lengths.split(",")], args.rate)
    with ExitStack() as stack:
        url = args.url or local_server(args.model, args.device, max(levels), stack)
        with ServerClient(url) as client:
            health = client.health()
        print(
            f"server {url}: device {health['device']}, models {health['models']}, torch threads "
            f"{torch.get_num_threads()}; {args.requests} stereo clips of {args.lengths} s at {args.rate} Hz, "
            f"musecoder {args.musecoder}"
        )
        print(table([level(url, n, audio, args.rate, {"musecoder": args.musecoder}) for n in levels]))


if __name__ == "__main__":
    main()
