"""Tonal balance, level changes and the done criteria on synthesised signals with known answers."""

import math

import numpy as np
import pytest
import torch
import torchaudio.functional as AF

from muse_fx.engine.model_config import FULL_BAND
from muse_fx.evaluation import METRICS, score_pair, tonal
from muse_fx.evaluation.criteria import Evidence, check
from muse_fx.evaluation.systems import internal_boundaries

RATE = 44100
SEAM_HZ = 7915.4


def noise(seconds: float = 3.0, rate: int = RATE, seed: int = 0) -> np.ndarray:
    return 0.1 * np.random.default_rng(seed).standard_normal(int(seconds * rate))


def equalised(signal: np.ndarray, gain_db, rate: int = RATE) -> np.ndarray:
    """`signal` with the gain (dB) `gain_db(freqs)` applied to every FFT bin."""
    freqs = np.fft.rfftfreq(len(signal), 1 / rate)
    return np.fft.irfft(np.fft.rfft(signal) * 10 ** (gain_db(freqs) / 20), n=len(signal))


def centres(edges: np.ndarray) -> np.ndarray:
    return np.sqrt(edges[:-1] * edges[1:])


def test_band_edges_are_sixth_octaves_with_1k_and_each_boundary_an_edge():
    plain, seamed = tonal.band_edges(), tonal.band_edges([SEAM_HZ, 10.0, 30000.0])  # out of range: ignored
    assert plain[0] == 50 and plain[-1] == 20000 and 1000 in plain and len(plain) == 53
    assert SEAM_HZ in seamed and len(seamed) == len(plain)  # 8 kHz gave way to the boundary beside it
    widths = np.log2(seamed[1:] / seamed[:-1])
    assert widths.min() > 1 / 12 and widths.max() < 1 / 4


def test_a_step_shows_at_its_boundary_with_its_size():
    edges = tonal.band_edges([SEAM_HZ])
    clean = noise()
    stepped = equalised(clean, lambda f: np.where(f >= SEAM_HZ, 6.0, 0.0))
    curve = tonal.balance(clean, stepped, RATE, edges)
    above = edges[:-1] >= SEAM_HZ
    np.testing.assert_allclose(curve[~above], 0.0, atol=0.05)
    np.testing.assert_allclose(curve[above], 6.0, atol=0.05)
    figures = tonal.figures(curve, edges, [SEAM_HZ])
    assert figures.boundary_steps[SEAM_HZ] == pytest.approx(6.0, abs=0.1)
    assert figures.largest_step == pytest.approx(6.0, abs=0.1) and figures.largest_step_hz == SEAM_HZ
    # above 1 kHz: 6 dB in each band from the seam up, 0 below it
    bands = edges[:-1] >= 1000
    assert figures.deviation == pytest.approx(6.0 * above.sum() / bands.sum(), abs=0.05)


def test_a_tilt_shows_in_each_band_with_its_slope():
    """−3 dB per octave around 1 kHz: each band reads the tilt at its (geometric) centre."""
    edges = tonal.band_edges()
    clean = noise()
    tilted = equalised(clean, lambda f: -3.0 * np.log2(np.maximum(f, 1.0) / 1000))
    curve = tonal.balance(clean, tilted, RATE, edges)
    expected = -3.0 * np.log2(centres(edges) / 1000)
    np.testing.assert_allclose(curve, expected, atol=0.15)
    # a smooth tilt steps by its slope over 1/6 octave, give or take the few bins of the lowest bands
    assert tonal.figures(curve, edges, []).largest_step == pytest.approx(-0.5, abs=0.15)


def test_a_level_change_offsets_the_curve_and_shows_in_the_level_figures():
    edges = tonal.band_edges()
    clean = noise()
    quieter = 0.5 * clean
    curve = tonal.balance(clean, quieter, RATE, edges)
    np.testing.assert_allclose(curve, -6.02, atol=0.01)
    figures = tonal.figures(curve, edges, [])
    assert figures.deviation == pytest.approx(6.02, abs=0.01) and abs(figures.largest_step) < 0.01
    levels = score_pair(clean, quieter, RATE, [METRICS["level"], METRICS["loudness"]])
    assert levels == pytest.approx({"level": -6.02, "loudness": -6.02}, abs=0.01)


def test_an_output_identical_to_the_clean_scores_no_change_anywhere():
    edges = tonal.band_edges([SEAM_HZ])
    clean = equalised(noise(), lambda f: -6.0 * np.log2(np.maximum(f, 50.0) / 50))  # music-like: darker up high
    curve = tonal.balance(clean, clean, RATE, edges)
    assert not curve.any()
    figures = tonal.figures(curve, edges, [SEAM_HZ])
    assert figures.deviation == 0 and figures.largest_step == 0 and figures.boundary_steps == {SEAM_HZ: 0}
    no_harm = ("fb_mrstft", "holes", "muffling", "muffled", "level", "loudness", "mrspec", "spec_l1")
    scores = score_pair(clean, clean, RATE, [METRICS[m] for m in no_harm])
    assert scores == pytest.approx(dict.fromkeys(no_harm, 0.0), abs=1e-9)


def test_bands_above_a_clips_nyquist_are_left_to_the_clips_that_reach_them():
    edges = tonal.band_edges()
    narrow = tonal.balance(noise(rate=16000), 2 * noise(rate=16000), 16000, edges)
    full = tonal.balance(noise(), 0.5 * noise(), RATE, edges)
    assert np.isnan(narrow[edges[1:] > 8000]).all() and np.isfinite(narrow[edges[1:] <= 8000]).all()
    mean = tonal.mean_balance([narrow, full])
    np.testing.assert_allclose(mean[edges[1:] > 8000], -6.02, atol=0.01)
    np.testing.assert_allclose(mean[edges[1:] <= 8000], 0.0, atol=0.01)
    assert np.isnan(tonal.figures(narrow, edges, [8000.0]).boundary_steps[8000.0])
    silent = tonal.balance(noise(), np.zeros(RATE * 3), RATE, edges)  # floored 80 dB below the clean's loudest band
    assert np.isfinite(silent).all() and (silent < -75).all()


def test_colouring_is_each_clips_own_deviation_so_opposite_colourings_do_not_cancel():
    clean = noise()
    brighter = equalised(clean, lambda f: np.where(f >= 4000, 6.0, 0.0))
    darker = equalised(clean, lambda f: np.where(f >= 4000, -6.0, 0.0))
    edges = tonal.band_edges()
    mean = tonal.mean_balance([tonal.balance(clean, x, RATE, edges) for x in (brighter, darker)])
    assert tonal.figures(mean, edges, []).deviation == pytest.approx(0.0, abs=0.05)  # the mean curve: flat
    colouring = [score_pair(clean, x, RATE, [METRICS["colouring"]])["colouring"] for x in (brighter, darker)]
    expected = 6.0 * (edges[:-1] >= 4000).sum() / (edges[:-1] >= 1000).sum()
    assert colouring == pytest.approx([expected, expected], abs=0.1)
    assert score_pair(clean, clean, RATE, [METRICS["colouring"]])["colouring"] == 0.0


def test_a_split_models_boundary_is_where_its_halves_filters_cross():
    (seam,) = internal_boundaries("full-band")
    mel = FULL_BAND.mel
    freqs = torch.linspace(0, RATE / 2, 44101, dtype=torch.float64)
    bank = AF.melscale_fbanks(len(freqs), mel.f_min, mel.f_max, mel.n_mels, RATE).double()
    lower, upper = bank[:, 127], bank[:, 128]
    crossing = freqs[(lower > 0) & (upper >= lower)][0]
    assert seam == pytest.approx(float(crossing), abs=1.0) and 7900 < seam < 8000
    assert internal_boundaries("cpu-small") == []


def _evidence(candidate: dict, source: dict, **kwargs) -> Evidence:
    figures = {
        "input": tonal.BalanceFigures(3.6, 1.3, 8000.0, {SEAM_HZ: -1.3}),
        "new": tonal.BalanceFigures(candidate.pop("deviation"), 7.8, 8000.0, {SEAM_HZ: candidate.pop("step")}),
    }
    rows = [
        {"clip": "a", "system": "input", "muffled": 0.0},
        {"clip": "a", "system": "new", "muffled": candidate.pop("muffled_a")},
        {"clip": "b", "system": "input", "muffled": 1.0},
        {"clip": "b", "system": "new", "muffled": 1.0},
    ]
    summary = {"input": source, "new": candidate, "old": {"fb_mrstft": 1.126}}
    return Evidence(rows, summary, figures, "new", **kwargs)


def test_realmusic_criteria_compare_the_candidate_with_the_input_and_references():
    good = _evidence(
        {"holes": 1.4, "fb_mrstft": 1.0, "deviation": 3.0, "step": -2.9, "muffled_a": 0.0},
        {"holes": 0.97},
        references=("old",),
    )
    assert [(c.text, c.met) for c in check("realmusic", good)] == [
        ("holes (%) ≤ input's + 0.5", True),
        ("clips muffled that the input was not", True),  # b was muffled already
        ("tonal deviation above 1 kHz (dB) ≤ input's", True),
        ("step at 7.92 kHz, up or down (dB) ≤ 3", True),
        ("full-band MR-STFT ≤ 0.9 × old's", True),
    ]
    bad = _evidence(
        {"holes": 2.53, "fb_mrstft": 1.02, "deviation": 4.6, "step": 7.8, "muffled_a": 1.0}, {"holes": 0.97}
    )
    checks = check("realmusic", bad)
    assert [c.met for c in checks] == [False] * 5
    assert checks[1].value == 1 and checks[3].value == pytest.approx(7.8)
    assert math.isnan(checks[4].value)  # no references named: not measured, so not met


def test_no_harm_criteria_read_the_candidates_means():
    summary = {"new": {"fb_mrstft": 0.41, "holes": 0.1, "muffling": -1.2}}
    checks = check("no-harm", Evidence([], summary, {}, "new"))
    assert [(c.value, c.met) for c in checks] == [(0.41, False), (0.1, True), (1.2, True)]
