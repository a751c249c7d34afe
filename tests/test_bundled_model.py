"""The bundled default model: it verifies, loads, and really cleans a noisy synthetic recording."""

import copy
import io

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import torch_threads
from torch import nn

from muse_fx import MuseEnhance
from muse_fx.engine import devices
from muse_fx.engine.mel2mel import ToOneChannel
from muse_fx.engine.registry import default_model_name, get_entry, list_models
from muse_fx.engine.weights import load_model, sha256_of
from muse_fx.errors import MuseFxError

RATE = 16000


def test_a_default_model_is_bundled_and_verifies():
    entry = get_entry("default")
    assert entry.name == default_model_name() and entry in list_models()
    assert entry.path.stat().st_size <= 16 * 2**20
    assert sha256_of(entry.path) == entry.sha256


@pytest.mark.parametrize("entry", list_models(), ids=lambda entry: entry.name)
def test_only_the_default_models_card_says_it_is_the_default(entry):
    """cpu-small.md still opened "The bundled default model" after full-band became the default (issue 25)."""
    opening = entry.path.with_name(entry.card).read_text().split("\n\n")[1]
    claims = opening.startswith(("The default model", "The bundled default model"))
    assert claims == (entry.name == default_model_name()), opening


def tone_in_noise(seconds=3.0, nsr_db=-10.0, seed=0):
    """A plucked harmonic melody (the clean reference) and the same with white noise at `nsr_db`."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    clean = np.zeros_like(t)
    for start, f0 in zip(np.arange(0, seconds, 0.5), rng.choice([220, 247, 262, 294, 330, 349, 392], 6)):
        local = t - start
        env = np.where(local >= 0, np.exp(-3 * np.clip(local, 0, None)), 0)
        clean += env * sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
    clean = 0.2 * clean / np.abs(clean).max()
    noise = rng.standard_normal(len(t))
    noise *= np.sqrt(np.mean(clean**2) / np.mean(noise**2)) * 10 ** (nsr_db / 20)
    return clean.astype(np.float32), (clean + noise).astype(np.float32)


def log_spec_l1(a, b):
    def spec(x):
        frames = np.lib.stride_tricks.sliding_window_view(x / np.linalg.norm(x), 1024)[::256] * np.hanning(1024)
        return np.log10(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-10)

    return float(np.mean(np.abs(spec(a) - spec(b))))


@pytest.mark.parametrize(
    "model, musecoder, seconds", [("default", "fast", 3.0), ("cpu-small", "fast", 3.0), ("cpu-small", "diffusion", 1.0)]
)
def test_bundled_models_move_noisy_audio_towards_clean(model, musecoder, seconds):
    clean, noisy = tone_in_noise(seconds=seconds)
    enhanced = MuseEnhance(model=model, musecoder=musecoder, device="cpu")(noisy, RATE)
    assert enhanced.shape == noisy.shape and np.all(np.abs(enhanced) <= 1.0)
    # measured: 0.40 full-band fast, 0.46 cpu-small fast, 0.52 cpu-small diffusion
    assert log_spec_l1(enhanced, clean) < 0.7 * log_spec_l1(noisy, clean)


def test_the_default_has_no_musecoder_and_says_where_diffusion_is():
    assert get_entry("default").config.musecoder is None
    with pytest.raises(MuseFxError, match="no musecoder"):
        MuseEnhance(musecoder="diffusion", device="cpu")(np.zeros(RATE, np.float32), RATE)


def test_strength_scales_the_cuts_from_none_to_the_models_own():
    clean, noisy = tone_in_noise(seconds=2.0)
    out = {strength: MuseEnhance(device="cpu", strength=strength)(noisy, RATE) for strength in (0.0, 0.5, 1.0)}
    np.testing.assert_array_equal(out[1.0], MuseEnhance(device="cpu")(noisy, RATE))  # 1 is the default, exactly
    to_input = {strength: log_spec_l1(audio, noisy) for strength, audio in out.items()}
    assert to_input[0.0] < 0.1 * to_input[1.0] and to_input[0.0] < to_input[0.5] < to_input[1.0]  # 0.08, 1.55, 3.05
    assert log_spec_l1(out[0.0], clean) > log_spec_l1(out[1.0], clean) + 1.0  # the noise stays in: 5.06 vs 2.34


def as_written(audio: np.ndarray, subtype: str) -> np.ndarray:
    """The integer samples a WAV of `subtype` holds for `audio`."""
    buffer = io.BytesIO()
    sf.write(buffer, audio.T, RATE, format="WAV", subtype=subtype)
    buffer.seek(0)
    return sf.read(buffer, dtype="int32")[0].astype(np.int64) >> (32 - int(subtype[-2:]))


@pytest.mark.parametrize(
    "precision, bound, lsbs", [("float32", 2**-22, {"PCM_16": 1, "PCM_24": 2}), ("bfloat16", 2**-14, {"PCM_16": 2})]
)
def test_the_default_model_at_another_thread_count_differs_by_rounding_only(precision, bound, lsbs):
    """docs/scale-out.md: a Ray worker runs torch on its CPUs' threads (one by default), a local run on all cores,
    and the model's sums split across threads round differently (measured, 1 vs 3 threads: at most 2⁻²⁴ in
    float32, 2⁻¹⁵ in bfloat16, which rounds each product to 8 bits)."""
    _, noisy = tone_in_noise(seconds=2.0)
    stereo = np.stack([noisy, noisy[::-1]])
    with torch_threads(1):
        one = MuseEnhance(device="cpu", precision=precision)(stereo, RATE)
    with torch_threads(3):
        three = MuseEnhance(device="cpu", precision=precision)(stereo, RATE)
        np.testing.assert_array_equal(three, MuseEnhance(device="cpu", precision=precision)(stereo, RATE))
    assert np.abs(three - one).max() <= bound
    for subtype, lsb in lsbs.items():
        assert np.abs(as_written(three, subtype) - as_written(one, subtype)).max() <= lsb, subtype


def with_stock_layers(model):
    """A copy of `model` whose generator uses torch's own InstanceNorm2d and Conv2d, as before the speed-up."""
    stock = copy.deepcopy(model)
    for module in list(stock.mel2mel.modules()):
        for name, child in module.named_children():
            if isinstance(child, nn.GroupNorm):
                setattr(module, name, nn.InstanceNorm2d(child.num_channels, affine=False))
            elif isinstance(child, ToOneChannel):
                conv = nn.Conv2d(child.in_channels, 1, child.kernel_size)
                conv.load_state_dict(child.state_dict())
                setattr(module, name, conv)
    return stock


def test_the_faster_fast_path_computes_what_the_stock_layers_did():
    """The speed-up only reorders arithmetic: the shared STFT, group norm and the summed last convolution stay
    within 1e-4 of torchaudio's log-mel and the stock layers, on the default model, through the whole pipeline."""
    _, noisy = tone_in_noise(seconds=7.0)
    stereo = np.stack([noisy, np.roll(noisy, 4001)])
    model = load_model("default")
    audio = torch.from_numpy(stereo)
    log_mel = model.log_mel
    torchaudio_log_mel = torch.log2((log_mel.mel(audio) * log_mel.power_scale).clamp_min(log_mel.config.log_floor))
    torch.testing.assert_close(log_mel(audio), torchaudio_log_mel, atol=1e-4, rtol=0)
    fast, stock = (
        MuseEnhance(model=m, device="cpu", precision="float32")(stereo, RATE) for m in (model, with_stock_layers(model))
    )
    assert np.abs(fast - stock).max() < 1e-4 and np.abs(stock).max() > 0.1


def test_bfloat16_moves_the_default_models_output_by_rounding_and_auto_takes_it_only_where_the_cpu_has_it(monkeypatch):
    """The generator in bfloat16 (precision's "auto" on a CPU that computes it natively) changes the output by its
    8-bit products only: measured on the 60 development pairs, peak differences of 1.2·10⁻³ median, 4.2·10⁻³ at most,
    and no figure of `muse-fx eval` moved by more than 0.003."""
    _, noisy = tone_in_noise(seconds=4.0)
    exact, rounded = (MuseEnhance(device="cpu", precision=p)(noisy, RATE) for p in ("float32", "bfloat16"))
    assert 0 < np.abs(exact - rounded).max() < 5e-3
    for native, expected in ((False, exact), (True, rounded)):
        monkeypatch.setattr(devices, "native_bfloat16", lambda native=native: native)
        np.testing.assert_array_equal(MuseEnhance(device="cpu")(noisy, RATE), expected)
