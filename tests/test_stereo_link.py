"""The stereo link: one generator pass per stereo chunk, the same gain on both channels, and channels that carry
different music enhanced apart."""

import torch

from muse_fx.engine.pipeline import Enhancer
from muse_fx.engine.stereo_link import UNLINK_DB, channel_spread_db, generate_linked

RATE = 44100


def mels(*channel_levels: float, frames: int = 20, n_mels: int = 8) -> torch.Tensor:
    """(1, channels, n_mels, frames) log2 mels: a random envelope, each channel offset by its level in log2."""
    envelope = torch.randn(n_mels, frames, generator=torch.Generator().manual_seed(0))
    return torch.stack([envelope + level for level in channel_levels])[None]


class Recorder:
    """A stand-in generator that records its batches and cuts every band by an amount that depends on the level."""

    def __init__(self):
        self.rows = []

    def __call__(self, degraded):
        self.rows.append(len(degraded))
        return degraded - 0.1 * degraded.square()


def test_alike_channels_cost_one_pass_and_keep_their_image_exactly():
    degraded = torch.cat([mels(0.0, -1.0), mels(2.0, 1.5)])  # two stereo chunks, channels 3 dB and 1.5 dB apart
    generate = Recorder()
    enhanced = generate_linked(degraded, generate)
    assert generate.rows == [2]  # one row per chunk, not per channel
    image = degraded[:, 0] - degraded[:, 1]
    torch.testing.assert_close(enhanced[:, 0] - enhanced[:, 1], image)


def test_identical_channels_get_what_each_would_get_alone():
    mono = mels(0.5)
    stereo = mono.expand(1, 2, *mono.shape[2:])
    torch.testing.assert_close(generate_linked(stereo, Recorder())[0, 1], Recorder()(mono[0])[0], atol=1e-5, rtol=0)


def test_channels_with_different_music_are_enhanced_apart():
    degraded = mels(0.0, 0.0)
    degraded[0, 1] = torch.randn(degraded.shape[2:], generator=torch.Generator().manual_seed(1)) * 8
    assert channel_spread_db(degraded) > UNLINK_DB
    generate = Recorder()
    enhanced = generate_linked(degraded, generate)
    assert generate.rows == [2]
    torch.testing.assert_close(enhanced[0], Recorder()(degraded[0]))


def test_a_mono_chunk_passes_straight_through():
    degraded = mels(0.0)
    torch.testing.assert_close(generate_linked(degraded, Recorder()), Recorder()(degraded[0])[None])


def test_a_stereo_file_with_equal_channels_comes_out_as_its_mono_take(tiny_model_path):
    enhancer = Enhancer.from_pretrained(tiny_model_path, device="cpu", musecoder="fast")
    take = 0.1 * torch.randn(1, 3 * RATE, generator=torch.Generator().manual_seed(0))
    stereo = enhancer(take.expand(2, -1).clone(), RATE)
    mono = enhancer(take, RATE)
    torch.testing.assert_close(stereo, mono.expand(2, -1), atol=1e-4, rtol=0)
