"""Issue 11 on the server: broken WAVs get the CLI's words, over-limit audio is refused from its header, any seed."""

import io
import tracemalloc

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner
from test_server_support import TestClient, decode, encode, make_app, noise

from muse_fx import MuseEnhance
from muse_fx.cli import main
from muse_fx.server.batcher import Batcher, BatchKey
from muse_fx.server.codec import decode as decode_upload
from muse_fx.server.runner import run_in_background
from muse_fx.settings import Settings


@pytest.fixture(scope="module")
def client(tiny_model_path):
    with TestClient(make_app(tiny_model_path, max_seconds=900)) as client:
        yield client


def post(client, data: bytes, **fields):
    return client.post("/v1/enhance", files={"file": ("in.wav", data)}, data={k: str(v) for k, v in fields.items()})


def silent_flac(seconds: float, rate: int = 8000) -> bytes:
    """A FLAC of silence: tiny on the wire (23 kB for 1000 s), large once decoded."""
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", rate, 1, "PCM_16", format="FLAC") as f:
        for _ in range(int(seconds)):
            f.write(np.zeros(rate, np.int16))
    return buffer.getvalue()


def streamed(wav: bytes) -> bytes:
    """`wav` as an encoder writing to a pipe leaves it: RIFF and data sizes 0xFFFFFFFF, "length unknown"."""
    data = bytearray(wav)
    at = data.find(b"data")
    data[4:8] = data[at + 4 : at + 8] = b"\xff\xff\xff\xff"
    return bytes(data)


def without_length(flac: bytes) -> bytes:
    """`flac` with STREAMINFO's total sample count 0, "unknown", as a FLAC encoded to a pipe has it."""
    data = bytearray(flac)
    data[21] &= 0xF0  # "fLaC", the block header, then the 36-bit count ends STREAMINFO's 18th byte
    data[22:26] = bytes(4)
    return bytes(data)


BROKEN_FILES = {
    "no frames": (
        "wav",
        encode(np.zeros((2, 0), np.float32), 16000),
        "holds no audio (0 samples); re-export the recording",
    ),
    "truncated": (
        "wav",
        encode(noise(2, 1.0, 16000), 16000)[:30000],
        "is truncated — its header promises more audio than the file holds",
    ),
    "no length": ("flac", without_length(silent_flac(3)), "its header does not give its length (encoded to a pipe?)"),
}


@pytest.mark.parametrize("extension, data, message", BROKEN_FILES.values(), ids=BROKEN_FILES)
def test_broken_files_get_the_same_message_from_the_cli_and_a_422_from_the_server(
    client, tiny_model_path, tmp_path, extension, data, message
):
    source = tmp_path / f"broken.{extension}"
    source.write_bytes(data)
    result = CliRunner().invoke(main, ["enhance", str(source), "--model", str(tiny_model_path)])
    assert result.exit_code == 1 and f"{source}: {message}" in result.output
    response = post(client, data)
    assert response.status_code == 422 and response.json()["detail"].startswith(f"the upload: {message}")


def test_overlong_flac_is_413_before_it_is_decoded(client):
    data = silent_flac(1000)  # 1000 s > 900 s
    response = post(client, data)
    assert response.status_code == 413 and "limit of 900 s" in response.json()["detail"]
    tracemalloc.start()
    try:
        with pytest.raises(Exception, match="413"):
            decode_upload(io.BytesIO(data), max_seconds=900, max_bytes=2**30)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # decoding the 900 s it may hold would take 28.8 MB


def test_a_flac_within_the_limit_still_decodes(client):
    response = post(client, silent_flac(3))
    assert response.status_code == 200 and decode(response.content)[0].shape == (1, 24000)


def test_a_huge_seed_runs_diffusion_on_the_server(client, tiny_model_path):
    audio = noise(1, 0.5, 16000)
    first, second = (post(client, encode(audio, 16000), musecoder="diffusion", seed=20000000000000) for _ in "12")
    assert first.status_code == 200, first.text
    np.testing.assert_array_equal(decode(first.content)[0], decode(second.content)[0])
    local = MuseEnhance(model=tiny_model_path, device="cpu", musecoder="diffusion", seed=20000000000000)
    expected = local(audio, 16000)
    np.testing.assert_allclose(decode(first.content)[0], expected, atol=1e-5)


@pytest.mark.parametrize("seed", [-1, 2**63])
def test_a_seed_out_of_range_is_422_on_the_server(client, seed):
    response = post(client, encode(noise(1, 0.1, 16000), 16000), musecoder="diffusion", seed=seed)
    assert response.status_code == 422
    assert response.json()["detail"] == f"seed must be a non-negative integer up to {2**63 - 1} (2**63 - 1), got {seed}"


def test_the_plugin_hands_back_empty_audio_without_asking_the_server(tiny_model_path):
    with run_in_background(make_app(tiny_model_path)) as url:
        plugin = MuseEnhance(server=url)
        assert plugin(np.zeros((2, 0), np.float32), 44100).shape == (2, 0)
        assert plugin(noise(2, 0.2, 44100), 44100).shape == (2, 8820)


def test_a_request_past_its_deadline_is_504_and_its_queued_chunks_are_cancelled(tiny_model_path, monkeypatch):
    queued = []
    monkeypatch.setattr(Batcher, "_run", lambda self, jobs: queued.extend(jobs))  # the device never gets to them
    with TestClient(make_app(tiny_model_path, request_timeout=1.0)) as client:
        response = post(client, encode(noise(1, 0.2, 16000), 16000))
    assert response.status_code == 504 and "longer than this server's limit of 1 s" in response.json()["detail"]
    assert queued and all(job.future.cancelled() for job in queued)


def test_a_streamed_wav_is_not_taken_for_a_truncated_one(client, tiny_model_path, tmp_path):
    audio = noise(1, 0.5, 16000)
    source = tmp_path / "piped.wav"
    source.write_bytes(streamed(encode(audio, 16000, "PCM_16")))
    result = CliRunner().invoke(main, ["enhance", str(source), "--model", str(tiny_model_path)])
    assert result.exit_code == 0, result.output
    response = post(client, source.read_bytes())
    assert response.status_code == 200 and decode(response.content)[0].shape == audio.shape


def test_stopping_fails_queued_chunks_but_skips_those_a_timeout_cancelled():
    batcher = Batcher({}, max_batch=4)  # never started: everything submitted stays queued
    key = BatchKey("tiny", 16000, 10, Settings())
    cancelled, waiting = (batcher.submit(key, torch.zeros(1, 10), [0]) for _ in "12")
    assert cancelled.cancel()
    batcher.stop()
    assert cancelled.cancelled() and isinstance(waiting.exception(timeout=0), RuntimeError)
