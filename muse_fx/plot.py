"""Before/after spectrogram pictures: what people would rather see than read."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _spectrogram_db(audio: np.ndarray, sample_rate: int, n_fft: int = 2048) -> np.ndarray:
    """Mono power spectrogram in dB (freq, frames), Hann window, 75% overlap."""
    mono = audio.mean(axis=0) if audio.ndim == 2 else audio
    mono = np.pad(mono, (0, max(0, n_fft - len(mono))))
    hop = n_fft // 4
    frames = 1 + (len(mono) - n_fft) // hop
    index = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    spectrum = np.fft.rfft(mono[index] * np.hanning(n_fft), axis=1)
    return 10 * np.log10(np.abs(spectrum.T) ** 2 + 1e-10)


def spectrogram_figure(panels: dict[str, np.ndarray], sample_rate: int, title: str = "") -> plt.Figure:
    """One row per labelled signal ((channels, samples) or (samples,)), shared colour scale; the rows are the
    figure's first axes, in order, so a caller can find where time runs on the picture."""
    specs = {label: _spectrogram_db(audio, sample_rate) for label, audio in panels.items()}
    top = max(float(s.max()) for s in specs.values())
    fig, axes = plt.subplots(len(specs), 1, figsize=(10, 2.6 * len(specs)), sharex=True, squeeze=False)
    for ax, (label, spec) in zip(axes[:, 0], specs.items()):
        seconds = spec.shape[1] * 512 / sample_rate
        image = ax.imshow(
            spec, origin="lower", aspect="auto", vmin=top - 90, vmax=top, cmap="magma",
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
