"""What the stereo link does to real stereo: the engine (one generator pass per chunk, the gain shared) against
every channel enhanced alone (one pass per channel, as before the link), scored channel by channel.

    muse-fx data devset … --out DEV                     # the development set (muse_fx/training/README.md)
    python benchmarks/stereo_link.py DEV                # the default model; --model cpu-small for another

Three kinds of stereo, all from the development set's real recordings:
- wide: its duets and ensembles as recorded (clean), with uncorrelated pink noise 20 dB under each channel, the
  side-channel noise a shared gain could leave behind;
- degraded: the same clips as the development set degraded them;
- hard-panned: two solo takes, one per channel, each with its own noise (different music in each channel).
For each, the full-band MR-STFT against the clean of the left and right channels (mean) and of the side channel
(L−R)/2, the side-to-mid ratio against the clean's (the stereo image), and the share of chunks the engine linked.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile
import torch

from muse_fx.engine import stereo_link
from muse_fx.engine.pipeline import Enhancer
from muse_fx.evaluation.fullband import mr_stft
from muse_fx.evaluation.metrics import prepare_pair

RATE = 44100
NOISE_DB = -20.0


def pink(length: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance pink noise: white noise shaped by 1/√f."""
    spectrum = np.fft.rfft(rng.standard_normal(length))
    spectrum[1:] /= np.sqrt(np.fft.rfftfreq(length)[1:])
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, length)
    return noise / noise.std()


def with_noise(clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(samples, 2) clean + independent pink noise NOISE_DB under each channel's level."""
    noise = np.stack([pink(len(clean), rng) for _ in range(2)], axis=1)
    return clean + noise * clean.std(axis=0) * 10 ** (NOISE_DB / 20)


def read(path: Path) -> np.ndarray:
    return soundfile.read(str(path), dtype="float64", always_2d=True)[0]


def cases(dev: Path, rng: np.random.Generator) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(kind, clean, input) triples of (samples, 2) audio at 44.1 kHz."""
    wide = sorted(p for p in dev.glob("*_clean.wav") if p.name.startswith(("duet", "ensemble")))
    for path in wide:
        clean = read(path)
        yield "wide + uncorrelated noise", clean, with_noise(clean, rng)
        yield "degraded (development set)", clean, read(path.with_name(path.name.replace("_clean", "_aug")))
    solos = sorted(dev.glob("solo*_clean.wav"))
    for left, right in zip(solos[0::2], solos[1::2]):
        a, b = read(left).mean(axis=1), read(right).mean(axis=1)
        length = min(len(a), len(b))
        clean = np.stack([a[:length], b[:length]], axis=1)
        yield "hard-panned solos", clean, with_noise(clean, rng)


def side_to_mid_db(audio: np.ndarray) -> float:
    side, mid = audio[:, 0] - audio[:, 1], audio[:, 0] + audio[:, 1]
    return float(10 * np.log10((side**2).sum() / max((mid**2).sum(), 1e-30) + 1e-30))


def scores(clean: np.ndarray, output: np.ndarray) -> dict[str, float]:
    def fb(c: np.ndarray, p: np.ndarray) -> float:
        return mr_stft(*prepare_pair(c, p), RATE)

    side = (clean[:, 0] - clean[:, 1]) / 2, (output[:, 0] - output[:, 1]) / 2
    return {
        "channels": (fb(clean[:, 0], output[:, 0]) + fb(clean[:, 1], output[:, 1])) / 2,
        "side": fb(*side),
        "image": abs(side_to_mid_db(output) - side_to_mid_db(clean)),
    }


class LinkCounter:
    """Counts the chunks the engine links, by watching `channel_spread_db` (only multi-channel chunks reach it)."""

    def __init__(self) -> None:
        self.linked = self.total = 0
        self._spread = stereo_link.channel_spread_db
        stereo_link.channel_spread_db = self  # type: ignore[assignment]

    def __call__(self, degraded: torch.Tensor) -> torch.Tensor:
        spread = self._spread(degraded)
        self.linked += int((spread <= stereo_link.UNLINK_DB).sum())
        self.total += len(spread)
        return spread

    def take(self) -> tuple[int, int]:
        """(linked, total) chunks since the last call."""
        counts = self.linked, self.total
        self.linked = self.total = 0
        return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev", type=Path, help="a development set written by `muse-fx data devset`")
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    enhancer = Enhancer.from_pretrained(args.model, device="cpu", musecoder="fast")
    counter = LinkCounter()

    def linked(audio: np.ndarray) -> np.ndarray:
        return enhancer(torch.from_numpy(audio.T.astype(np.float32)), RATE).numpy().T

    def apart(audio: np.ndarray) -> np.ndarray:
        return np.concatenate([linked(audio[:, [channel]]) for channel in range(2)], axis=1)

    table: dict[tuple[str, str], list[dict[str, float]]] = {}
    links: dict[str, np.ndarray] = {}  # kind → (linked, total) chunks; channel by channel runs mono, never counted
    for kind, clean, degraded in cases(args.dev, np.random.default_rng(0)):
        for system, run in (("input", lambda a: a), ("channel by channel", apart), ("linked (the engine)", linked)):
            table.setdefault((kind, system), []).append(scores(clean, run(degraded)))
        links[kind] = links.get(kind, np.zeros(2, dtype=int)) + counter.take()
        print(f"  {kind}: {len(table[(kind, 'input')])} clips", flush=True)

    print(
        f"\nmodel {args.model}, UNLINK_DB {stereo_link.UNLINK_DB}; full-band MR-STFT against the clean, lower is better"
    )
    print("| stereo | system | clips | L and R | side (L−R)/2 | image error (dB) | chunks linked |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (kind, system), rows in table.items():
        mean = {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}
        linked_share = f"{links[kind][0]}/{links[kind][1]}" if system.startswith("linked") else ""
        print(
            f"| {kind} | {system} | {len(rows)} | {mean['channels']:.3f} | {mean['side']:.3f} | "
            f"{mean['image']:.2f} | {linked_share} |"
        )


if __name__ == "__main__":
    main()
