import pytest
import torch

from muse_fx.engine.chunking import ChunkLayout, StreamingOverlapAdd, overlap_add, triangle

LAYOUT = ChunkLayout(length=100, hop=75)


def identity(chunks, indices):
    return chunks


def scale_by_index(chunks, indices):
    return torch.stack([chunk * (index + 1) for chunk, index in zip(chunks, indices)])


@pytest.mark.parametrize("total", [0, 1, 2, 99, 100, 101, 175, 176, 1000, 12345])
def test_identity_reproduces_input(total):
    audio = torch.randn(2, total)
    out = overlap_add(audio, identity, LAYOUT, batch_size=3)
    assert out.shape == audio.shape
    torch.testing.assert_close(out, audio, atol=1e-6, rtol=0)


@pytest.mark.parametrize("total", [1, 100, 101, 176, 1000])
def test_chunks_cover_everything_and_last_ends_at_end(total):
    count = LAYOUT.count(total)
    covered = torch.zeros(total, dtype=torch.bool)
    for index in range(count):
        start, end = LAYOUT.span(index, total)
        covered[start:end] = True
    assert covered.all()
    assert LAYOUT.span(count - 1, total)[1] == total
    if count > 1:  # a last chunk always overlaps its neighbour by more than the overlap length
        start, end = LAYOUT.span(count - 1, total)
        assert end - start > LAYOUT.length - LAYOUT.hop


def test_no_level_jump_between_chunks():
    """A constant gain per chunk must blend smoothly: adjacent output samples never jump."""
    audio = torch.ones(1, 2000)
    out = overlap_add(audio, scale_by_index, LAYOUT)
    assert out.diff(dim=1).abs().max() < 0.2  # gains step by 1.0 between chunks; the triangle spreads it


def test_audio_without_channels_comes_back_without_calling_the_process():
    def refuse(chunks, indices):
        raise AssertionError("called with no channels")

    assert overlap_add(torch.zeros(0, 1000), refuse, LAYOUT).shape == (0, 1000)


def test_window_positive_and_peaks_in_middle():
    for length in (1, 2, 7, 100):
        w = triangle(length)
        assert (w > 0).all() and w.max() == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("block", [1, 37, 100, 5000])
def test_streaming_equals_offline(block):
    audio = torch.randn(2, 1234)
    offline = overlap_add(audio, scale_by_index, LAYOUT, batch_size=5)
    stream = StreamingOverlapAdd(2, scale_by_index, LAYOUT, batch_size=2)
    parts = [stream.push(b) for b in torch.split(audio, block, dim=1)] + [stream.flush()]
    torch.testing.assert_close(torch.cat(parts, dim=1), offline, atol=1e-6, rtol=0)


def test_streaming_memory_is_bounded():
    stream = StreamingOverlapAdd(1, identity, LAYOUT)
    for _ in range(500):
        stream.push(torch.randn(1, 64))
        assert stream.pending.shape[1] <= LAYOUT.length + 64
        assert stream.output.shape[1] <= LAYOUT.length + 64


def test_batches_never_exceed_batch_size():
    sizes = []

    def record(chunks, indices):
        sizes.append(chunks.shape[0] * chunks.shape[1])  # chunks × channels
        return chunks

    overlap_add(torch.randn(3, 5000), record, LAYOUT, batch_size=4)
    assert max(sizes) <= 4
    overlap_add(torch.randn(2, 5000), record, LAYOUT, batch_size=4)
    assert sizes[-1] <= 4 and max(sizes) == 4
