"""Degradations: shapes, recorded parameters, levels, alignment and reproducibility; no banks needed."""

import random

import pytest
import torch

from muse_fx.training.degrade import eq, noise
from muse_fx.training.degrade.chain import DegradeConfig, Degrader
from muse_fx.training.degrade.rooms import convolve_aligned
from muse_fx.training.loudness import loudness_db
from muse_fx.training.synthetic import tone_sequence

SR = 16000


def nsr_around_tone(signal: torch.Tensor, frequency: float, sample_rate: int) -> tuple[float, torch.Tensor]:
    """(noise-to-signal ratio in dB, the noise): the tone fitted by least squares in any phase, the rest is noise."""
    t = torch.arange(len(signal)) / sample_rate
    basis = torch.stack([torch.sin(2 * torch.pi * frequency * t), torch.cos(2 * torch.pi * frequency * t)], 1)
    fit = (basis @ torch.linalg.lstsq(basis, signal.unsqueeze(1)).solution).squeeze(1)
    residual = signal - fit
    return float(10 * torch.log10(residual.pow(2).mean() / fit.pow(2).mean())), residual


@pytest.fixture
def clean():
    return tone_sequence(1.0, SR, random.Random(0))


@pytest.mark.parametrize("kind", sorted(noise.SYNTHETIC))
def test_each_noise_has_the_right_shape_and_records_its_draw(kind):
    signal, params = noise.SYNTHETIC[kind](SR, SR, random.Random(1), torch.device("cpu"))
    assert signal.shape == (SR,) and torch.isfinite(signal).all() and signal.abs().max() > 0
    assert isinstance(params, dict) and params


def test_babble_mixes_bank_utterances():
    bank = [torch.randn(3000), torch.randn(5000)]
    signal, params = noise.babble(SR, bank, random.Random(0), torch.device("cpu"))
    assert signal.shape == (SR,) and 3 <= params["talkers"] <= 8


def test_mix_at_snr_hits_the_requested_noise_to_signal_ratio(clean):
    hiss = torch.randn(len(clean))
    mixed = noise.mix_at_snr(clean, hiss, -12.0)
    ratio = 10 * torch.log10((mixed - clean).pow(2).mean() / clean.pow(2).mean())
    assert ratio.item() == pytest.approx(-12.0, abs=0.01)


def test_reverb_is_aligned_on_the_direct_path(clean):
    rir = torch.zeros(4000)
    rir[300] = 0.5  # direct path after 300 samples
    rir[1200] = 0.1  # one reflection
    wet = convolve_aligned(clean, rir)
    assert wet.shape == clean.shape
    assert torch.allclose(wet[:900], clean[:900], atol=1e-4)  # before the reflection: the dry signal, in place


def test_mic_eq_stays_within_its_band_gains(clean):
    out, params = eq.mic_eq(clean, SR, random.Random(3))
    assert len(params["band_gains_db"]) == 4 and all(abs(g) <= 15 for g in params["band_gains_db"])
    change_db = 20 * torch.log10(out.norm() / clean.norm())
    assert min(params["band_gains_db"]) - 0.5 <= change_db <= max(params["band_gains_db"]) + 0.5


def test_clip_limits_the_peak_relative_to_the_input(clean):
    out, params = eq.clip(clean, random.Random(0))
    assert out.abs().max() <= clean.abs().max() + 1e-6 and params["drive_db"] >= 1


def test_chain_returns_a_level_matched_aligned_pair_and_its_parameters(clean):
    rir = torch.zeros(2000)
    rir[100], rir[900] = 1.0, 0.3
    degrader = Degrader(SR, rirs=[rir], rt60=[0.4], babble=[torch.randn(4000)])
    for seed in range(6):
        degraded, target, params = degrader(clean, random.Random(seed))
        assert degraded.shape == target.shape == clean.shape
        assert degraded.abs().max() <= 1.0 and target.abs().max() <= 1.0
        assert "level_db" in params
        if degraded.abs().max() < 1.0 and target.abs().max() < 1.0:  # not peak-limited: same loudness
            assert loudness_db(degraded, SR) == pytest.approx(params["level_db"], abs=0.1)
            assert loudness_db(target, SR) == pytest.approx(params["level_db"], abs=0.1)
        # The target is the clean signal, only rescaled.
        assert torch.corrcoef(torch.stack([target, clean]))[0, 1] > 0.999
        assert "clean_floor" not in params


def test_an_optional_clean_floor_goes_under_both_signals_at_its_drawn_level(clean):
    degrader = Degrader(SR, DegradeConfig(clean_floor_db=(-70.0, -40.0), p_noise=0.0, p_reverb=0.0))
    degraded, target, params = degrader(clean, random.Random(3))
    assert -70 <= params["clean_floor"]["nsr_db"] <= -40
    assert torch.corrcoef(torch.stack([target, clean]))[0, 1] > 0.999


def test_chain_is_reproducible_from_its_seed(clean):
    degrader = Degrader(SR)
    a, _, pa = degrader(clean, random.Random(7))
    b, _, pb = degrader(clean, random.Random(7))
    assert torch.equal(a, b) and pa == pb


def test_a_low_rate_recording_band_limits_the_input_and_the_target_alike():
    """Above a 16/22.05/32 kHz source's Nyquist there is nothing to restore, so the target has nothing there either."""
    white = torch.randn(44100, generator=torch.Generator().manual_seed(0)) * 0.1
    degraded, target, params = Degrader(44100, DegradeConfig(p_low_rate=1.0))(white, random.Random(3))
    nyquist = params["low_rate"]["sample_rate"] / 2
    frequencies = torch.fft.rfftfreq(44100, 1 / 44100)
    for signal in (degraded, target):
        power = torch.fft.rfft(signal).abs().square()
        above, below = power[frequencies > nyquist + 200].sum(), power[frequencies < 0.9 * nyquist].sum()
        assert above < 1e-4 * below


def test_a_low_rate_recording_has_its_noise_at_the_drawn_nsr_within_its_own_band():
    """A 16 kHz recording's hiss sits at its NSR below 8 kHz; mixed full-band at 44.1 kHz first, most of it would
    have landed above 8 kHz and been cut away by the band limit, leaving the input cleaner than such recordings."""
    rate = 44100
    sine = 0.1 * torch.sin(2 * torch.pi * 1000 * torch.arange(rate) / rate)
    only_noise = DegradeConfig(p_low_rate=1.0, p_reverb=0, p_noise=1, p_second_noise=0, p_mic_eq=0, p_low_cut=0,
                               p_band_limit=0, p_clip=0, nsr_db=(-10.0, -10.0))  # fmt: skip
    for seed in range(8):
        degraded, _, params = Degrader(rate, only_noise)(sine, random.Random(seed))
        if params["noise"][0]["kind"] == "clicks":  # impulsive: its power is not a steady floor to measure
            continue
        nsr, _ = nsr_around_tone(degraded, 1000, rate)
        assert abs(nsr + 10.0) < 0.5, (params, nsr)


def test_a_dark_take_keeps_its_dark_target_while_the_noise_over_it_stays_bright():
    """The low-pass goes on the clean signal before the noise: the target is dark, the input has hiss up top."""
    white = torch.randn(SR, generator=torch.Generator().manual_seed(0)) * 0.1
    dark_and_hiss = DegradeConfig(p_dark=1.0, p_reverb=0, p_noise=1, p_second_noise=0, p_mic_eq=0, p_low_cut=0,
                                  p_band_limit=0, p_clip=0, nsr_db=(-20.0, -20.0))  # fmt: skip
    frequencies = torch.fft.rfftfreq(SR, 1 / SR)

    def top_share_db(signal):
        power = torch.fft.rfft(signal).abs().square()
        return float(10 * torch.log10(power[frequencies > 7000].sum() / power.sum()))

    for seed in range(4):
        degraded, target, params = Degrader(SR, dark_and_hiss)(white, random.Random(seed))
        if params["noise"][0]["kind"] in ("hum", "hvac", "clicks"):  # no steady hiss up top to compare
            continue
        assert 1000 <= params["dark"]["cutoff_hz"] <= 6000 and 1 <= params["dark"]["order"] <= 4
        assert top_share_db(target) < top_share_db(white) - 2  # the clean take itself is darker
        assert top_share_db(degraded) > top_share_db(target) + 1  # the noise was not darkened with it


def test_unsteady_noise_swings_in_level_and_still_sits_at_the_drawn_nsr():
    """Frame levels of white noise hold within a dB; made unsteady they wander by several, at the same NSR."""
    sine = 0.1 * torch.sin(2 * torch.pi * 440 * torch.arange(3 * SR) / SR)
    swinging = DegradeConfig(p_unsteady=1.0, p_reverb=0, p_noise=1, p_second_noise=0, p_mic_eq=0, p_low_cut=0,
                             p_band_limit=0, p_clip=0, nsr_db=(-10.0, -10.0))  # fmt: skip

    def frame_level_std_db(signal):
        frames = signal[: len(signal) // 512 * 512].view(-1, 512).pow(2).mean(1)
        return float(10 * torch.log10(frames.clamp_min(1e-20)).std())

    steady, _ = noise.coloured(len(sine), SR, random.Random(0), torch.device("cpu"))
    assert frame_level_std_db(steady) < 1.0
    for seed in range(6):
        degraded, _, params = Degrader(SR, swinging)(sine, random.Random(seed))
        draw = params["noise"][0]
        assert 2 <= draw["unsteady"]["depth_db"] <= 8 and 20 <= draw["unsteady"]["every_ms"] <= 300
        nsr, residual = nsr_around_tone(degraded, 440, SR)
        assert abs(nsr + 10.0) < 0.5, (params, nsr)
        if draw["kind"] not in ("hum", "clicks"):  # tonal or sparse: no steady frame level to begin with
            assert frame_level_std_db(residual) > 1.5, params
