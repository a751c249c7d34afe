"""The paper's metrics on synthesised signals: known values, invariances and edge cases."""

import numpy as np
import pytest
import torch
import torchaudio

from muse_fx.evaluation import METRICS, fullband, score_pair
from muse_fx.evaluation.fwsnrseg import critical_band_filters, fwsnrseg
from muse_fx.evaluation.metrics import prepare_pair
from muse_fx.evaluation.sisdr import si_sdr
from muse_fx.evaluation.spectral import multi_resolution_stft, spectrogram_l1
from muse_fx.evaluation.visqol_score import visqol, visqol_available


def pair(rate: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """One second of tones + a glide, and a copy with gain, a 20 ms echo and `noise` × FM/chirp interference."""
    t = np.arange(rate) / rate
    clean = np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 660 * t) * np.exp(-2 * t)
    clean += 0.2 * np.sin(2 * np.pi * (300 * t + 900 * t**2))
    hiss = np.sin(2 * np.pi * 2500 * t + 40 * np.sin(2 * np.pi * 3 * t)) + np.sin(2 * np.pi * (100 * t + 3000 * t**2))
    return clean, 0.8 * clean + noise * hiss + 0.1 * np.roll(clean, rate // 50)


# From a line-by-line transcription of pysepm's qualityMeasures.fwSNRseg (scipy.signal.stft and all).
PYSEPM_VALUES = [
    (8000, 0.05, 19.63299044140817),
    (8000, 1.0, -1.0671856315654142),
    (8000, 20.0, -4.116419596966269),
    (16000, 0.05, 20.09794423181009),
    (16000, 1.0, -0.7730969153731028),
    (16000, 20.0, -3.78536975473054),
    (44100, 0.05, 20.208562884295215),
    (44100, 1.0, -0.806912675523855),
    (44100, 20.0, -3.812019580293096),
]


@pytest.mark.parametrize("rate, noise, expected", PYSEPM_VALUES)
def test_fwsnrseg_matches_pysepm(rate, noise, expected):
    assert fwsnrseg(*pair(rate, noise), rate) == pytest.approx(expected, abs=1e-9)


def test_fwsnrseg_identical_signals_hit_the_35_db_clamp():
    clean, _ = pair(16000, 0.0)
    assert fwsnrseg(clean, clean, 16000) == 35.0


def test_fwsnrseg_ignores_gain_and_polarity():
    clean, processed = pair(16000, 1.0)
    assert fwsnrseg(clean, -3 * processed, 16000) == pytest.approx(fwsnrseg(clean, processed, 16000), abs=1e-9)


def test_fwsnrseg_stays_within_its_clamp():
    t = np.arange(16000) / 16000
    tone, other = np.sin(2 * np.pi * 200 * t), np.sin(2 * np.pi * 3000 * t)
    assert -10.0 <= fwsnrseg(tone, other, 16000) < 0


def test_fwsnrseg_rejects_mismatched_or_short_input():
    with pytest.raises(ValueError, match="equal length"):
        fwsnrseg(np.ones(1000), np.ones(999), 16000)
    with pytest.raises(ValueError, match="at least"):
        fwsnrseg(np.ones(500), np.ones(500), 16000)


def test_critical_bands_peak_at_their_centres():
    filters = critical_band_filters(16000, 512)
    assert filters.shape == (25, 512)
    assert filters[0].max() == 1.0  # the narrowest band is the 0 dB reference
    np.testing.assert_array_equal(filters.argmax(axis=1)[[0, 24]], [3, 230])  # floor(50/8000·512), floor(3597.63/…)


def paper_spectrograms(clean, processed):
    """The paper's scripts/eval.py code path, verbatim in spirit: torchaudio.Spectrogram on float32 batches."""
    c, p = (torch.tensor(s, dtype=torch.float32)[None, None] for s in (clean, processed))
    power = torchaudio.transforms.Spectrogram(n_fft=1024, hop_length=256)
    l1 = ((power(c) + 1e-10).log() - (power(p) + 1e-10).log()).abs().mean()
    total = 0.0
    for n_fft, hop in ((512, 128), (1024, 256), (2048, 512)):
        mag = torchaudio.transforms.Spectrogram(n_fft=n_fft, hop_length=hop, power=1)
        cs, ps = mag(c).flatten() + 1e-10, mag(p).flatten() + 1e-10
        total += (torch.square(cs - ps).sum() / torch.square(cs).sum() + (cs.log() - ps.log()).abs().mean()).item()
    return l1.item(), total / 3


@pytest.mark.parametrize("noise", [0.05, 1.0])
def test_spectral_distances_match_the_papers_torchaudio_code(noise):
    clean, processed = prepare_pair(*pair(16000, noise))
    l1, mrspec = paper_spectrograms(clean, processed)
    assert spectrogram_l1(clean, processed) == pytest.approx(l1, rel=1e-4)
    assert multi_resolution_stft(clean, processed) == pytest.approx(mrspec, rel=1e-4)


def test_spectral_distances_are_zero_for_identical_signals_and_grow_with_noise():
    clean, _ = prepare_pair(*pair(16000, 0.0))
    assert spectrogram_l1(clean, clean) == 0.0 and multi_resolution_stft(clean, clean) == 0.0
    near, far = (prepare_pair(*pair(16000, n)) for n in (0.05, 1.0))
    assert spectrogram_l1(*near) < spectrogram_l1(*far)
    assert multi_resolution_stft(*near) < multi_resolution_stft(*far)


def test_si_sdr_known_value_and_scale_invariance():
    t = np.arange(16000) / 16000
    clean = np.sin(2 * np.pi * 100 * t)
    orthogonal = 0.1 * np.sin(2 * np.pi * 300 * t)  # energy 1% of clean's: 20 dB
    assert si_sdr(clean, clean + orthogonal) == pytest.approx(20.0, abs=1e-6)
    assert si_sdr(clean, -5 * (clean + orthogonal)) == pytest.approx(20.0, abs=1e-6)
    assert si_sdr(clean, clean) > 100


def test_prepare_pair_trims_and_normalises_like_the_paper():
    clean, processed = prepare_pair(np.full(100, 3.0), np.full(90, -0.5))
    assert len(clean) == len(processed) == 90
    assert np.linalg.norm(clean) == pytest.approx(1.0) and np.linalg.norm(processed) == pytest.approx(1.0)
    silent, _ = prepare_pair(np.zeros(10), np.ones(10))
    assert not np.any(silent)


def test_score_pair_reports_each_requested_metric_and_the_table_knows_directions():
    clean, processed = pair(16000, 0.05)
    chosen = [METRICS[m] for m in ("mrspec", "spec_l1", "fwsnrseg", "si_sdr")]
    scores = score_pair(clean, 7 * processed[:-50], 16000, chosen)
    assert list(scores) == ["mrspec", "spec_l1", "fwsnrseg", "si_sdr"]
    assert all(np.isfinite(v) for v in scores.values())
    assert [m.name for m in METRICS.values() if m.higher_is_better] == ["fwsnrseg", "visqol", "si_sdr", "muffling"]


@pytest.mark.skipif(visqol_available() is not None, reason=str(visqol_available()))
def test_visqol_prefers_the_cleaner_copy():
    clean, near = prepare_pair(*pair(16000, 0.05))
    _, far = prepare_pair(*pair(16000, 1.0))
    perfect, good, bad = (visqol(clean, x, 16000) for x in (clean, near, far))
    assert 1.0 <= bad < good <= perfect <= 5.0
    assert perfect > 4.5


def _music(rate: int, seconds: float = 2.0) -> np.ndarray:
    """Bright harmonic notes with decays: energy up to 20 kHz, as a violin or cymbal would have."""
    t = np.arange(int(seconds * rate)) / rate
    notes = sum(np.sin(2 * np.pi * 440 * k * t) / k for k in range(1, 46) if 440 * k < 0.95 * rate / 2)
    return notes * np.exp(-3 * (t % 0.5)) + 1e-3 * np.random.default_rng(0).standard_normal(len(t))


def _lowpass(signal: np.ndarray, rate: int, cutoff: float) -> np.ndarray:
    spectrum = np.fft.rfft(signal)
    spectrum[np.fft.rfftfreq(len(signal), 1 / rate) > cutoff] = 0
    return np.fft.irfft(spectrum, n=len(signal))


def test_full_band_metrics_see_muffling_in_the_right_bands():
    rate = 44100
    clean = _music(rate)
    dull = _lowpass(clean, rate, 6000)
    c, d = prepare_pair(clean, dull)
    assert fullband.muffling(c, c, rate) == pytest.approx(0.0, abs=1e-9) and fullband.muffled(c, c, rate) == 0
    assert fullband.muffling(c, d, rate) < -20 and fullband.muffled(c, d, rate) == 1
    assert fullband.band_lsd(c, d, rate, (0, 4000)) < 1.0 < 10 < fullband.band_lsd(c, d, rate, (8000, 16000))
    assert fullband.band_lsd(c, c, rate, (16000, 22050)) == 0
    assert fullband.mr_stft(c, c, rate) == pytest.approx(0.0, abs=1e-9)
    assert fullband.mr_stft(c, d, rate) > 0.5


def test_floor_keeps_empty_bins_above_a_band_limit_from_dominating():
    """A clean phone recording (nothing above 4 kHz) against the same with a −60 dB hiss: with a 1e-10 floor the
    empty bins make this a huge distance; floored 80 dB below the peak it stays small."""
    rate = 44100
    clean = _lowpass(_music(rate), rate, 4000)
    hiss = clean + 1e-3 * np.random.default_rng(1).standard_normal(len(clean))
    assert fullband.mr_stft(*prepare_pair(clean, hiss), rate) < 1.0


def test_holes_count_gated_music_frames_and_the_noise_floor_sees_it():
    rate = 44100
    clean = _music(rate)
    gated = clean.copy()
    envelope = np.abs(clean) > 0.02 * np.abs(clean).max()  # a crude gate: decays below −34 dB vanish
    gated[~np.convolve(envelope, np.ones(2048), "same").astype(bool)] = 0
    gated[int(0.3 * rate) : int(0.5 * rate)] *= 0.01  # and one dropped decay
    c, g = prepare_pair(clean, gated)
    assert fullband.holes(c, c, rate) == 0 and fullband.holes(c, g, rate) > 5
    assert fullband.noise_floor(c, g, rate) < fullband.noise_floor(c, c, rate)


def test_full_band_metrics_skip_bands_a_16k_pair_does_not_have():
    c, p = prepare_pair(*pair(16000, 0.05))
    assert np.isnan(fullband.band_lsd(c, p, 16000, (8000, 16000))) and np.isnan(fullband.muffling(c, p, 16000))
    assert np.isfinite(fullband.band_lsd(c, p, 16000, (4000, 8000)))
