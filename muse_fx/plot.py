"""Pictures people would rather see than read: before/after spectrograms, tonal balance curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# The picture is 1100 pixels wide: more columns than that add memory, not detail.
MAX_COLUMNS = 1200


def _spectrogram_db(audio: np.ndarray, n_fft: int = 2048) -> np.ndarray:
    """Mono power spectrogram in dB (freq, columns), Hann window, 75% overlap.

    Long signals are computed a column at a time, each column the loudest of the frames it covers (so a
    click still shows), which keeps memory at a few MB for an hour as for a second.
    """
    mono = audio.mean(axis=0) if audio.ndim == 2 and len(audio) > 1 else audio.reshape(-1)  # mono: a view, no copy
    mono = mono.astype(np.float32, copy=False)
    if len(mono) < n_fft:
        mono = np.pad(mono, (0, n_fft - len(mono)))
    hop = n_fft // 4
    frames = 1 + (len(mono) - n_fft) // hop
    edges = np.linspace(0, frames, min(frames, MAX_COLUMNS) + 1).astype(int)
    window = np.hanning(n_fft).astype(np.float32)
    columns = np.empty((n_fft // 2 + 1, len(edges) - 1), dtype=np.float32)
    for column, (start, stop) in enumerate(zip(edges[:-1], edges[1:])):
        index = np.arange(n_fft)[None, :] + hop * np.arange(start, stop)[:, None]
        columns[:, column] = (np.abs(np.fft.rfft(mono[index] * window, axis=1)) ** 2).max(axis=0)
    return 10 * np.log10(columns + 1e-10)


def spectrogram_figure(panels: dict[str, np.ndarray], sample_rate: int, title: str = "") -> plt.Figure:
    """One row per labelled signal ((channels, samples) or (samples,)), shared colour scale; the rows are the
    figure's first axes, in order, so a caller can find where time runs on the picture."""
    specs = {label: (_spectrogram_db(audio), audio.shape[-1] / sample_rate) for label, audio in panels.items()}
    top = max(float(spec.max()) for spec, _ in specs.values())
    fig, axes = plt.subplots(len(specs), 1, figsize=(10, 2.6 * len(specs)), sharex=True, squeeze=False)
    for ax, (label, (spec, seconds)) in zip(axes[:, 0], specs.items()):
        image = ax.imshow(
            spec,
            origin="lower",
            aspect="auto",
            vmin=top - 90,
            vmax=top,
            cmap="magma",
            extent=(0, seconds, 0, sample_rate / 2000),
        )
        ax.set_ylabel("kHz")
        ax.set_title(label, loc="left", fontsize=10)
    axes[-1, 0].set_xlabel("seconds")
    fig.colorbar(image, ax=axes[:, 0], label="dB", shrink=0.8)
    if title:
        fig.suptitle(title)
    return fig


def save_spectrograms(panels: dict[str, np.ndarray], sample_rate: int, path: Path, title: str = "") -> Path:
    """`spectrogram_figure`, saved as PNG."""
    fig = spectrogram_figure(panels, sample_rate, title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def save_balance(
    curves: dict[str, np.ndarray], edges_hz: np.ndarray, boundaries_hz: list[float], path: Path, title: str = ""
) -> Path:
    """Each labelled (bands,) tonal balance curve (dB re the clean) as steps over its bands on a log-frequency axis,
    against the 0 dB line of an unchanged spectrum; dotted lines mark the internal boundaries. Saved as PNG."""
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.axhline(0.0, color="black", linewidth=0.8)
    for boundary in boundaries_hz:
        ax.axvline(boundary, color="grey", linestyle=":", linewidth=1.0)
    for label, curve in curves.items():
        ax.stairs(curve, edges_hz, label=label, linewidth=1.6, baseline=None)
    low, high = ax.get_ylim()
    ax.set_ylim(min(low, -3.0), max(high, 3.0))  # a flat curve's round-off is not drawn as a landscape
    ax.set_xscale("log")
    ax.set_xlim(edges_hz[0], edges_hz[-1])
    ticks = [f for f in (50, 100, 200, 500, 1000, 2000, 4000, 8000, 16000) if edges_hz[0] <= f <= edges_hz[-1]]
    ax.set_xticks(ticks, [f"{f / 1000:g}k" if f >= 1000 else str(f) for f in ticks])
    ax.set_xlabel("Hz")
    ax.set_ylabel("dB re clean")
    ax.grid(True, which="major", alpha=0.3)
    if curves:
        ax.legend(loc="best", fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
