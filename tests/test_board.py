"""muse_fx.Pedalboard and MuseEnhance as a pedalboard-style plugin, streaming included."""

import numpy as np
import pedalboard
import pytest
from pedalboard import Chain, Gain, HighpassFilter, Mix, Reverb

from muse_fx import MuseEnhance, Pedalboard


@pytest.fixture(scope="module")
def enhance(tiny_model_path):
    return MuseEnhance(model=tiny_model_path, device="cpu")


def stereo(seconds=2.0, rate=44100, seed=0):
    return (np.random.default_rng(seed).standard_normal((2, int(seconds * rate))) * 0.1).astype(np.float32)


def test_muse_and_native_plugins_process_44k_stereo(enhance):
    board = Pedalboard([enhance, Reverb(), Gain(gain_db=-3)])
    audio = stereo()
    out = board(audio, 44100)
    assert out.shape == audio.shape and out.dtype == np.float32
    reference = pedalboard.Pedalboard([Reverb(), Gain(gain_db=-3)])(enhance(audio, 44100), 44100)
    np.testing.assert_allclose(out, reference, atol=1e-5)


def test_consecutive_native_plugins_run_as_one_native_board(enhance):
    board = Pedalboard([HighpassFilter(), Gain(), enhance, Reverb(), Gain()])
    segments = board._segments()
    assert [type(s).__name__ for s in segments] == ["Pedalboard", "MuseEnhance", "Pedalboard"]
    assert len(segments[0]) == 2 and len(segments[2]) == 2


def test_nested_native_boards_chain_and_mix(enhance):
    board = Pedalboard([enhance, pedalboard.Pedalboard([Gain(-1)]), Chain([Gain(-1)]), Mix([Gain(-1), Gain(-2)])])
    assert board(stereo(0.5), 44100).shape == (2, 22050)


def test_nested_muse_boards(enhance):
    inner = Pedalboard([enhance, Gain(-6)])
    assert Pedalboard([inner, Reverb()])(stereo(0.5), 44100).shape == (2, 22050)


def test_list_api(enhance):
    reverb, gain = Reverb(), Gain()
    board = Pedalboard([enhance])
    board.append(reverb)
    board.insert(0, gain)
    assert len(board) == 3 and board[0] is gain and list(board) == [gain, enhance, reverb]
    assert isinstance(board[1:], Pedalboard) and list(board[1:]) == [enhance, reverb]
    board.remove(gain)
    board[1] = Gain(-2)
    del board[1]
    assert list(board) == [enhance]
    board.reset()
    with pytest.raises(TypeError, match="is not a plugin"):
        board.append("reverb")


@pytest.mark.parametrize("attempt", ["construct", "append", "insert"])
def test_native_pedalboard_is_left_alone(enhance, attempt):
    """Importing muse_fx patches nothing in pedalboard: its board refuses MuseEnhance with its own TypeError."""
    assert not any(hasattr(getattr(pedalboard.Pedalboard, name), "__wrapped__") for name in ("__init__", "append"))
    with pytest.raises(TypeError, match="incompatible"):
        if attempt == "construct":
            pedalboard.Pedalboard([Gain(), enhance])
        elif attempt == "append":
            pedalboard.Pedalboard().append(enhance)
        else:
            pedalboard.Pedalboard().insert(0, enhance)


def test_native_pedalboard_still_reports_its_own_errors():
    with pytest.raises(TypeError, match="incompatible"):
        pedalboard.Pedalboard(["not a plugin"])


def test_plugin_protocol(enhance):
    assert enhance.is_effect and not enhance.is_instrument
    assert repr(enhance).startswith('<muse_fx.MuseEnhance model="') and 'musecoder="fast"' in repr(enhance)
    audio = stereo(0.5)
    np.testing.assert_allclose(enhance.process(audio, 44100), enhance(audio, 44100), atol=1e-6)
    channels_last = np.ascontiguousarray(audio.T)
    assert enhance(channels_last, 44100).shape == channels_last.shape


@pytest.mark.parametrize("musecoder", ["fast", "diffusion"])
def test_streaming_equals_offline(tiny_model_path, musecoder):
    plugin = MuseEnhance(model=tiny_model_path, device="cpu", musecoder=musecoder)
    audio = stereo(7.0 if musecoder == "fast" else 4.0)
    offline = plugin(audio, 44100)
    outputs = [plugin.process(block, 44100, reset=False) for block in np.array_split(audio, 60, axis=1)]
    assert outputs[0].shape[1] == 0  # the first chunk is still filling: the plugin's latency
    outputs.append(plugin.process(np.zeros((2, 0), np.float32), 44100, reset=True))
    streamed = np.concatenate(outputs, axis=1)
    assert streamed.shape == audio.shape
    np.testing.assert_allclose(streamed, offline, atol=1e-5)
    held = max(audio.shape[1] * (i + 1) // 60 - sum(o.shape[1] for o in outputs[: i + 1]) for i in range(60))
    assert held <= plugin.latency


@pytest.mark.parametrize("block", [64, 256, 1024, 4096])
def test_any_host_block_size_streams_the_offline_output_within_the_reported_latency(enhance, block):
    """DAW block sizes: the stream equals the offline output, and output sample t has come out once t + latency
    input samples have gone in, which is the delay a host compensates (`reported_latency_samples`, pedalboard's)."""
    audio = stereo(3.3, rate=16000)  # two chunks at 16 kHz, the second one short
    offline = enhance(audio, 16000)
    outputs = []
    for start in range(0, audio.shape[1], block):
        outputs.append(enhance.process(audio[:, start : start + block], 16000, reset=False))
        received = min(start + block, audio.shape[1])
        assert sum(out.shape[1] for out in outputs) >= received - enhance.reported_latency_samples
    assert enhance.reported_latency_samples == enhance.latency == round(2.944 * 16000)
    outputs.append(enhance.process(np.zeros((2, 0), np.float32), 16000, reset=True))
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), offline, atol=1e-5)


def test_streaming_in_a_board_equals_offline(tiny_model_path):
    audio = stereo(5.0)
    offline = Pedalboard([MuseEnhance(model=tiny_model_path, device="cpu"), Gain(-3)])(audio, 44100)
    board = Pedalboard([MuseEnhance(model=tiny_model_path, device="cpu"), Gain(-3)])
    parts = [board(block, 44100, reset=False) for block in np.array_split(audio, 25, axis=1)]
    parts.append(board(np.zeros((2, 0), np.float32), 44100, reset=True))
    np.testing.assert_allclose(np.concatenate(parts, axis=1), offline, atol=1e-5)


def test_streaming_memory_stays_bounded(enhance):
    """30 s of 8192-sample blocks at 16 kHz (10 chunks): the plugin holds at most a chunk and a block."""
    block = np.zeros((1, 8192), np.float32) + 0.01
    for _ in range(30 * 16000 // 8192):
        enhance.process(block, 16000, reset=False)
        assert enhance._stream.pending.shape[1] <= enhance.latency + 8192
        assert enhance._stream.output.shape[1] <= enhance.latency + 8192
    enhance.reset()


def test_stream_format_change_without_reset_is_an_error(enhance):
    enhance.process(stereo(0.1), 44100, reset=False)
    with pytest.raises(ValueError, match="without reset"):
        enhance.process(stereo(0.1, rate=48000), 48000, reset=False)
    enhance.reset()


def in_layout(block: np.ndarray, layout: str) -> np.ndarray:
    """(channels, samples) audio as a host with `layout` hands it over."""
    return {"channels first": block, "channels last": np.ascontiguousarray(block.T), "1-D": block[0]}[layout]


def stream_in_blocks(plugin, audio: np.ndarray, layout: str, sizes: list[int]) -> np.ndarray:
    """`audio` through `plugin` in blocks of `sizes` samples, the rest in four, then an empty reset block; the
    results joined along the samples axis."""
    plugin.reset()  # a stream an earlier test left open is not this one's
    edges = np.cumsum(sizes)
    blocks = [*np.split(audio, edges, axis=1)[:-1], *np.array_split(audio[:, edges[-1] :], 4, axis=1)]
    parts = [plugin.process(in_layout(block, layout), 44100, reset=False) for block in blocks]
    parts.append(plugin.process(in_layout(audio[:, :0], layout), 44100, reset=True))
    return np.concatenate(parts, axis=1 if layout == "channels first" else 0)


@pytest.mark.parametrize(
    "channels, layout, first",
    [
        (channels, layout, first)
        for channels in (2, 1)
        for layout in ("channels first", "channels last", "1-D")
        for first in (0, 1)
        if (layout != "1-D" or channels == 1) and (channels, layout, first) != (1, "channels last", 1)
    ],
)
def test_a_stream_opened_by_a_block_of_0_or_1_samples_equals_offline(enhance, channels, layout, first):
    """Hosts often open a stream with an empty or 1-sample block: (2, 1) may be one stereo sample or two mono ones,
    so the layout waits for a block that tells. (A mono (1, 1) block reads as (channels, samples) until then.)"""
    audio = stereo(1.5)[:channels]
    offline = enhance(in_layout(audio, layout), 44100)
    streamed = stream_in_blocks(enhance, audio, layout, [first, 1, 1])
    assert streamed.shape == offline.shape
    np.testing.assert_allclose(streamed, offline, atol=1e-5)


def test_a_board_stream_opened_by_one_sample_equals_offline(tiny_model_path):
    board = Pedalboard([MuseEnhance(model=tiny_model_path, device="cpu"), Gain(-3)])
    audio = stereo(1.5)
    offline = board(audio, 44100)
    np.testing.assert_allclose(stream_in_blocks(board, audio, "channels first", [1, 1]), offline, atol=1e-5)
    np.testing.assert_allclose(stream_in_blocks(board, audio, "channels last", [1, 1]).T, offline, atol=1e-5)
