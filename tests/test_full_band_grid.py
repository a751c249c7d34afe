"""The full-band model sits on the 16 kHz model's grid, so a 16 kHz generator carries over to its lower bands."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from muse_fx.engine.mel import LogMel
from muse_fx.engine.mel2mel import Generator, make_generator
from muse_fx.engine.model_config import CPU_SMALL, FULL_BAND, TINY, MelConfig
from muse_fx.engine.resampling import resample
from muse_fx.errors import ModelError


def test_the_lower_128_full_band_mels_are_the_16k_mels():
    def centres_hz(config: MelConfig) -> torch.Tensor:
        return LogMel(config).filterbank.argmax(dim=0) * config.sample_rate / config.n_fft

    gap_hz = centres_hz(FULL_BAND.mel)[:128] - centres_hz(MelConfig())
    assert gap_hz.abs().max() < 16  # within one STFT bin (15.6 Hz) of each other


def test_a_16k_take_reads_the_same_levels_at_44k():
    """Same window duration and power scaled to a 1023-sample window: a tone reads the same level in its band."""
    time = torch.arange(32000) / 16000
    tones = (220.0, 660.0, 1980.0, 5000.0)
    take = sum(torch.sin(2 * torch.pi * f * time) / k for k, f in enumerate(tones, 1)).unsqueeze(0)
    narrow = LogMel(MelConfig())(take)[0].median(dim=-1).values
    wide = LogMel(FULL_BAND.mel)(resample(take, 16000, 44100))[0, :128].median(dim=-1).values
    filterbank = LogMel(MelConfig()).filterbank
    bands = [int(filterbank[round(f * 1023 / 16000)].argmax()) for f in tones]
    assert (narrow[bands] - wide[bands]).abs().max() < 0.15  # log2 units: under 0.5 dB


def test_a_split_generator_started_from_a_16k_one_is_that_one_below_the_split():
    torch.manual_seed(0)
    config = dataclasses.replace(TINY.mel2mel, split_band=128, split_context=32)
    narrow, split = Generator(config).eval(), make_generator(config).eval()
    split.start_from(narrow)
    mel = torch.randn(1, 1, 176, 40)
    with torch.no_grad():
        assert torch.equal(split(mel)[..., :128, :], narrow(mel[..., :128, :]))
        assert split(mel).shape == mel.shape
    assert FULL_BAND.mel2mel.split_band == 128 and CPU_SMALL.mel2mel.split_band == 0


def test_a_wider_generator_started_from_a_narrower_one_computes_the_same_and_can_learn():
    torch.manual_seed(0)
    config = dataclasses.replace(TINY.mel2mel, split_band=128, split_context=32)
    narrow = make_generator(config).eval()
    wide = make_generator(dataclasses.replace(config, ngf=2 * config.ngf)).eval()
    wide.start_from(narrow)
    mel = torch.randn(1, 1, 176, 40)
    with torch.no_grad():
        assert torch.allclose(wide(mel), narrow(mel), atol=1e-6)
    wide(mel).square().mean().backward()
    last = wide.low.net[-1].weight  # the output layer: its weights from the extra channels start at zero
    assert last.grad[:, config.ngf :].abs().sum() > 0
    with pytest.raises(ModelError, match="same layers"):
        narrow.start_from(wide)
