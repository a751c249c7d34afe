"""The one chunk feeder: every path cuts audio the same way, so the tensor API, the streaming plugin and the server
give identical output for one input; progress is reported in seconds of audio everywhere."""

import threading
import time

import numpy as np
import pytest
import torch
from pedalboard import Gain

from muse_fx import MuseEnhance, Pedalboard
from muse_fx.engine.feeder import ChunkFeeder, chunk_layout
from muse_fx.engine.pipeline import Enhancer
from muse_fx.engine.weights import load_model
from muse_fx.settings import Settings

RATE = 16000


def identity(chunks, indices):
    return chunks


def recorded(run) -> list[tuple[float, float]]:
    calls = []
    run(lambda done, total: calls.append((done, total)))
    return calls


@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize("chunks", [1, 2, 5])
@pytest.mark.parametrize("extra", [0, 1])
def test_progress_counts_seconds_and_ends_exactly_at_the_total(channels, chunks, extra):
    layout = chunk_layout(RATE)
    samples = layout.length + (chunks - 1) * layout.hop + extra
    feeder = ChunkFeeder(identity, RATE, batch_size=3)
    calls = recorded(lambda progress: feeder(torch.zeros(channels, samples), progress))
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[0] > 0
    assert calls[-1] == (samples / RATE, samples / RATE)
    assert {total for _, total in calls} == {samples / RATE}


def test_empty_audio_reports_nothing():
    assert recorded(lambda progress: ChunkFeeder(identity, RATE, 4)(torch.zeros(2, 0), progress)) == []


def test_the_plugin_and_the_board_report_seconds(tiny_model_path):
    audio = np.random.default_rng(0).standard_normal((2, 44100 * 7)).astype(np.float32) * 0.1
    plugin = MuseEnhance(model=tiny_model_path, device="cpu")
    for target in (plugin, Pedalboard([plugin, Gain(-3)])):
        calls = recorded(lambda progress, target=target: target.enhance(audio, 44100, progress=progress))
        assert len(calls) > 1 and calls[-1] == (7.0, 7.0)


def test_the_three_paths_give_identical_output(tiny_model_path):
    """Enhancer (tensors), MuseEnhance streamed block by block, and the server's batcher: one feeder, one result."""
    pytest.importorskip("fastapi", reason="the server path needs the `server` extra")
    from muse_fx.server.batcher import Batcher
    from muse_fx.server.enhance import enhance_audio
    from muse_fx.server.model_pool import load_models

    rate, seed = 44100, 11
    audio = torch.from_numpy(np.random.default_rng(3).standard_normal((2, rate * 4)).astype(np.float32) * 0.1)
    settings = Settings(musecoder="diffusion", seed=seed, batch_size=1)
    tensor_api = Enhancer(load_model(tiny_model_path), settings)(audio, rate)

    plugin = MuseEnhance(model=tiny_model_path, device="cpu", musecoder="diffusion", seed=seed, batch_size=1)
    blocks = [plugin.process(block, rate, reset=False) for block in np.array_split(audio.numpy(), 7, axis=1)]
    streamed = np.concatenate([*blocks, plugin.process(np.zeros((2, 0), np.float32), rate, reset=True)], axis=1)

    models = load_models([str(tiny_model_path)], torch.device("cpu"))
    batcher = Batcher(models, max_batch=8)
    batcher.start()
    try:
        served = enhance_audio(audio, rate, "tiny", settings, batcher, time.monotonic() + 120, threading.Event())
    finally:
        batcher.stop()

    np.testing.assert_array_equal(streamed, tensor_api.numpy())
    np.testing.assert_array_equal(served.numpy(), tensor_api.numpy())
