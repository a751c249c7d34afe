"""ServerClient against a real server on a loopback port: results, files, and errors a user can act on."""

import socket

import numpy as np
import pytest
import soundfile as sf
from test_server_support import encode, make_app, noise, solo

from muse_fx import MuseEnhance
from muse_fx.backends.client import (
    ServerAuthError,
    ServerBusyError,
    ServerClient,
    ServerError,
    ServerRejectedError,
    ServerUnreachableError,
    UploadTooLargeError,
)
from muse_fx.errors import AudioInputError, MuseFxError, on_the_command_line
from muse_fx.server.runner import run_in_background

TOKEN = "client-test-token"


@pytest.fixture(scope="module")
def url(tiny_model_path):
    with run_in_background(make_app(tiny_model_path, token=TOKEN, max_upload_mb=0.5, max_seconds=3)) as url:
        yield url


@pytest.fixture
def client(url):
    with ServerClient(url, token=TOKEN, retries=0) as client:
        yield client


def test_health_and_models(client):
    assert client.health()["ready"]
    assert [m["name"] for m in client.models()] == ["tiny"]


def test_token_comes_from_the_environment(url, monkeypatch):
    monkeypatch.setenv("MUSE_FX_TOKEN", TOKEN)
    with ServerClient(url) as client:
        assert client.health()["ready"]


@pytest.mark.parametrize("token", [None, "wrong"])
def test_missing_or_wrong_token_says_how_to_set_one(url, token, monkeypatch):
    monkeypatch.delenv("MUSE_FX_TOKEN", raising=False)
    with ServerClient(url, token=token) as client, pytest.raises(ServerAuthError) as error:
        client.health()
    said = "refused the token" if token else "requires a token and none was sent"
    assert f"{said}: set MUSE_FX_TOKEN to the token the server was started with" in str(error.value)
    assert isinstance(error.value, MuseFxError)


def test_muse_enhance_takes_the_servers_token_and_never_shows_it(url, tiny_model_path, monkeypatch):
    """The token could only come from $MUSE_FX_TOKEN (issue 25): a server process serving several users cannot."""
    monkeypatch.delenv("MUSE_FX_TOKEN", raising=False)
    audio = noise(1, 0.5, 16000)[0]
    enhance = MuseEnhance(server=url, token=TOKEN, musecoder="fast")  # the server's default model: tiny
    assert np.allclose(enhance(audio, 16000), solo(tiny_model_path, audio, 16000), atol=1e-5)
    assert TOKEN not in repr(enhance)
    with pytest.raises(ServerAuthError, match="refused the token"):
        MuseEnhance(server=url, token="wrong", musecoder="fast")(audio, 16000)


def test_unreachable_server_says_what_to_check():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    with ServerClient(f"http://127.0.0.1:{port}", retries=2, backoff=0.01) as client:
        with pytest.raises(ServerUnreachableError) as error:
            client.health()
    message = str(error.value)
    assert f"cannot reach muse-fx server at http://127.0.0.1:{port} (" in message
    assert "is `muse-fx serve` running there?" in message
    # Python is told the parameter, the command line its flag (Python was told the flag: issue 25)
    assert "pass fallback_local=True to MuseEnhance" in message and "--fallback-local" not in message
    assert "add --fallback-local" in on_the_command_line(error.value)


def test_enhance_array_matches_local_inference(client, tiny_model_path):
    audio = noise(2, 1.5, 22050)
    out = client.enhance_array(audio, 22050, mix=0.5, seed=2)
    assert out.dtype == np.float32 and out.shape == audio.shape
    np.testing.assert_allclose(out, solo(tiny_model_path, audio, 22050, mix=0.5, seed=2), atol=1e-5)


def test_strength_travels_from_the_plugin_and_the_cli_to_the_server(url, tiny_model_path, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from muse_fx import MuseEnhance
    from muse_fx.cli import main

    monkeypatch.setenv("MUSE_FX_TOKEN", TOKEN)
    audio = noise(1, 1.0, 16000)
    local = solo(tiny_model_path, audio, 16000, strength=0.3)
    assert not np.allclose(local, solo(tiny_model_path, audio, 16000), atol=1e-3)
    np.testing.assert_allclose(MuseEnhance(server=url, strength=0.3)(audio, 16000), local, atol=1e-5)
    sf.write(tmp_path / "in.wav", audio.T, 16000, subtype="FLOAT")
    result = CliRunner().invoke(
        main,
        ["enhance", str(tmp_path / "in.wav"), "--server", url, "--strength", "0.3", "-o", str(tmp_path / "out.wav")],
    )
    assert result.exit_code == 0, result.output
    np.testing.assert_allclose(sf.read(tmp_path / "out.wav", dtype="float32")[0], local[0], atol=1e-5)


def test_enhance_array_wants_channels_first(client):
    with pytest.raises(AudioInputError, match=r"\(channels, samples\)"):
        client.enhance_array(np.zeros(100, np.float32), 16000)


@pytest.mark.parametrize("container, subtype, suffix", [("WAV", "PCM_24", ".wav"), ("FLAC", "PCM_16", ".flac")])
def test_enhance_file_keeps_the_format_and_leaves_no_temp_files(client, tmp_path, container, subtype, suffix):
    source, destination = tmp_path / f"in{suffix}", tmp_path / "out" / f"out{suffix}"
    destination.parent.mkdir()
    source.write_bytes(encode(noise(2, 1.0, 44100), 44100, subtype, container))
    assert client.enhance_file(source, destination) == destination
    info = sf.info(destination)
    assert (info.format, info.subtype, info.samplerate, info.channels, info.frames) == (
        container,
        subtype,
        44100,
        2,
        44100,
    )
    assert list(destination.parent.iterdir()) == [destination]


def test_enhance_file_can_ask_for_float32(client, tmp_path):
    source = tmp_path / "in.wav"
    source.write_bytes(encode(noise(1, 0.5, 16000), 16000, "PCM_16"))
    assert sf.info(client.enhance_file(source, tmp_path / "out.wav", output="float32")).subtype == "FLOAT"


def test_rejected_audio_raises_the_servers_message_and_writes_nothing(client, tmp_path):
    source = tmp_path / "in.wav"
    source.write_bytes(b"not audio at all")
    with pytest.raises(ServerRejectedError, match="not readable audio"):
        client.enhance_file(source, tmp_path / "out.wav")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]


def test_bad_parameters_raise_the_servers_message(client):
    with pytest.raises(ServerRejectedError, match="steps must be 6 .fast schedule. or 50"):
        client.enhance_array(noise(1, 0.1, 16000), 16000, steps=7)


def test_too_large_upload_says_the_limit(client, tmp_path):
    with pytest.raises(UploadTooLargeError, match="limit of 0.5 MiB"):
        client.enhance_array(noise(2, 2.0, 48000), 48000)  # 750 KiB
    with pytest.raises(UploadTooLargeError, match="limit of 3 s for 1 channel"):
        client.enhance_array(noise(1, 4.0, 8000), 8000)
    source = tmp_path / "big.wav"
    source.write_bytes(encode(noise(2, 2.0, 48000), 48000))
    with pytest.raises(UploadTooLargeError):
        client.enhance_file(source, tmp_path / "out.wav")


def test_missing_source_file_is_reported_before_any_request(client, tmp_path):
    with pytest.raises(AudioInputError, match="does not exist"):
        client.enhance_file(tmp_path / "nope.wav", tmp_path / "out.wav")


def test_every_client_error_is_a_server_error():
    for error in (ServerAuthError, ServerBusyError, ServerRejectedError, ServerUnreachableError, UploadTooLargeError):
        assert issubclass(error, ServerError) and issubclass(error, MuseFxError)
