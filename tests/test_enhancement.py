"""Local and remote enhancement behind one interface; the tensor-level entry `Enhancer.from_pretrained`."""

import numpy as np
import pytest
import torch
from pedalboard import Gain

from muse_fx import Enhancer, MuseEnhance, Pedalboard
from muse_fx.board import can_stream
from muse_fx.errors import AudioInputError, ModelError

NOWHERE = "http://127.0.0.1:9"  # never contacted by these tests


def noise(shape, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 0.1).astype(np.float32)


def test_from_pretrained_matches_the_plugin_bit_for_bit():
    enhancer = Enhancer.from_pretrained("default", device="cpu")
    audio = noise((2, 30000))
    out = enhancer(torch.from_numpy(audio), 44100)
    assert out.shape == (2, 30000) and out.dtype == torch.float32 and torch.is_inference(out)
    np.testing.assert_array_equal(out.numpy(), MuseEnhance(device="cpu")(audio, 44100))


def test_from_pretrained_takes_a_file_and_settings(tiny_model_path):
    settings = dict(musecoder="diffusion", seed=4, mix=0.7, strength=0.5)
    enhancer = Enhancer.from_pretrained(tiny_model_path, device="cpu", **settings)
    assert enhancer.settings.batch_size == 1  # diffusion on a CPU: one chunk per pass, as MuseEnhance does
    audio = noise((1, 20000))
    expected = MuseEnhance(model=tiny_model_path, device="cpu", **settings)(audio, 22050)
    np.testing.assert_array_equal(enhancer(torch.from_numpy(audio), 22050).numpy(), expected)


@pytest.mark.parametrize(
    "audio, rate, message",
    [(torch.zeros(1000), 16000, r"\(channels, samples\) tensor"), (torch.zeros(1, 1000), 1.5, "sample rate")],
)
def test_the_tensor_entry_names_bad_input(tiny_model_path, audio, rate, message):
    with pytest.raises(AudioInputError, match=message):
        Enhancer.from_pretrained(tiny_model_path, device="cpu")(audio, rate)


def test_from_pretrained_checks_settings_like_the_plugin(tiny_model_path):
    with pytest.raises(ValueError, match=r"mix must be between 0.0 \(dry\) and 1.0"):
        Enhancer.from_pretrained(tiny_model_path, device="cpu", mix=1.5)


def test_an_unknown_model_is_named():
    with pytest.raises(ModelError, match="unknown model 'no-such-model'"):
        Enhancer.from_pretrained("no-such-model", device="cpu")


def test_a_plugin_on_a_server_says_it_cannot_stream():
    remote = MuseEnhance(server=NOWHERE)
    assert not remote.streams and not can_stream(remote) and not can_stream(Pedalboard([Gain(), remote]))
    with pytest.raises(AudioInputError, match="runs locally only"):
        remote.process(noise((2, 100)), 44100, reset=False)


def test_local_plugins_boards_and_native_plugins_stream(tiny_model_path):
    local = MuseEnhance(model=tiny_model_path, device="cpu")
    assert local.streams and can_stream(Pedalboard([local, Gain()])) and can_stream(Gain())
    assert not can_stream(lambda audio, rate: audio)
