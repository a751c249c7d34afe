"""MuseEnhance end to end with the tiny random model: shapes, rates, alignment, determinism, bad input."""

import numpy as np
import pytest
import torch
from tiny_model import TINY

from muse_fx import MuseEnhance
from muse_fx.engine.feeder import chunk_layout
from muse_fx.engine.muse_model import MuseModel
from muse_fx.errors import AudioInputError, DeviceUnavailableError


@pytest.fixture(scope="module")
def enhancer(tiny_model_path):
    return MuseEnhance(model=tiny_model_path, device="cpu")


@pytest.fixture(scope="module")
def identity_enhancer():
    """mel2mel predicts a zero residual, so the fast path's gain is exactly 1."""
    model = MuseModel(TINY)
    last = model.mel2mel.net[-1]
    torch.nn.init.zeros_(last.weight)
    torch.nn.init.zeros_(last.bias)
    return MuseEnhance(model=model, device="cpu", musecoder="fast")


def noise(shape, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 0.1).astype(np.float32)


@pytest.mark.parametrize("rate", [16000, 44100])
def test_lengths_at_the_edges(enhancer, rate):
    chunk = chunk_layout(rate).length
    for length in [0, 1, 2, chunk - 1, chunk, chunk + 1]:
        out = enhancer(noise((2, length)), rate)
        assert out.shape == (2, length) and out.dtype == np.float32
        assert np.all(np.isfinite(out))


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000, 96000])
def test_rates_and_channels_round_trip(enhancer, rate):
    for shape in [(rate // 2,), (1, rate // 2), (2, rate // 2), (6, rate // 4)]:
        audio = noise(shape)
        assert enhancer(audio, rate).shape == audio.shape


def test_samples_by_channels_layout_is_kept(enhancer):
    audio = noise((20000, 2))
    out = enhancer(audio, 44100)
    assert out.shape == (20000, 2)
    np.testing.assert_allclose(out.T, enhancer(np.ascontiguousarray(audio.T), 44100), atol=1e-5)


def test_float64_in_float32_out(enhancer):
    assert enhancer(noise((2, 5000)).astype(np.float64), 16000).dtype == np.float32


def test_identity_model_reproduces_input_at_model_rate(identity_enhancer):
    audio = noise((2, 3 * chunk_layout(16000).length + 123))
    np.testing.assert_allclose(identity_enhancer(audio, 16000), audio, atol=1e-4)


def test_identity_model_keeps_full_band_at_44k(identity_enhancer):
    audio = noise((2, 100000))
    out = identity_enhancer(audio, 44100)
    snr = 10 * np.log10(np.sum(audio**2) / np.sum((out - audio) ** 2))
    assert snr > 50


def test_full_band_false_returns_only_the_model_band(identity_enhancer):
    audio = noise((1, 88200))
    narrow = MuseEnhance(model=identity_enhancer._local.model, device="cpu", full_band=False)(audio, 44100)
    wide = identity_enhancer(audio, 44100)

    def energy_above(x, hz):
        spectrum = np.abs(np.fft.rfft(x[0])) ** 2
        return spectrum[np.fft.rfftfreq(x.shape[1], 1 / 44100) > hz].sum() / spectrum.sum()

    assert energy_above(narrow, 8500) < 1e-3
    assert energy_above(wide, 8500) > 0.5


def test_mix_zero_is_the_dry_signal_sample_aligned(tiny_model_path):
    audio = noise((2, 70000))
    dry = MuseEnhance(model=tiny_model_path, device="cpu", mix=0.0)(audio, 44100)
    np.testing.assert_allclose(dry, audio, atol=1e-5)
    wet = MuseEnhance(model=tiny_model_path, device="cpu", mix=1.0)(audio, 44100)
    half = MuseEnhance(model=tiny_model_path, device="cpu", mix=0.5)(audio, 44100)
    np.testing.assert_allclose(half, 0.5 * (dry + wet), atol=1e-5)


def test_same_seed_same_output_other_seed_differs(tiny_model_path):
    audio = noise((2, 40000))
    runs = [
        MuseEnhance(model=tiny_model_path, device="cpu", musecoder="diffusion", seed=s)(audio, 22050) for s in (3, 3, 4)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.allclose(runs[0], runs[2])


def test_full_chain_runs(tiny_model_path):
    out = MuseEnhance(model=tiny_model_path, device="cpu", musecoder="diffusion", steps=50)(noise((1, 3000)), 16000)
    assert out.shape == (1, 3000) and np.all(np.abs(out) <= 1.0 + 1e-6)


@pytest.mark.parametrize(
    "audio, rate, message",
    [
        (np.zeros((9, 1000), np.float32), 44100, "more than 8 channels"),
        (np.full((2, 1000), np.nan, np.float32), 44100, "NaN"),
        (np.zeros((2, 1000), np.int16), 44100, "floating point"),
        (np.zeros((2, 2, 2), np.float32), 44100, "1-D"),
        (np.zeros((2, 1000), np.float32), 1.5, "sample rate"),
        (np.zeros((2, 1000), np.float32), 10_000_000, "sample rate"),
    ],
)
def test_bad_input_gets_a_clear_error(enhancer, audio, rate, message):
    with pytest.raises(AudioInputError, match=message):
        enhancer(audio, rate)


@pytest.mark.parametrize(
    "name, value",
    [
        ("mix", 1.5),
        ("steps", 7),
        ("musecoder", "griffin-lim"),
        ("seed", -1),
        ("strength", 1.5),
        ("strength", -0.1),
        ("strength", "high"),
    ],
)
def test_parameters_are_validated(enhancer, name, value):
    with pytest.raises(ValueError, match=name):
        setattr(enhancer, name, value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_missing_cuda_is_an_error_not_a_fallback(tiny_model_path):
    with pytest.raises(DeviceUnavailableError, match="no usable CUDA GPU"):
        MuseEnhance(model=tiny_model_path, device="cuda")


def test_unknown_device_is_an_error(tiny_model_path):
    with pytest.raises(DeviceUnavailableError, match="unknown device"):
        MuseEnhance(model=tiny_model_path, device="tpu")
