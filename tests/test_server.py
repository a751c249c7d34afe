"""The HTTP API through FastAPI's TestClient: endpoints, formats, parameters, limits, malformed input, tokens."""

import numpy as np
import pytest
from test_server_support import CPU, TestClient, decode, encode, make_app, noise, solo

from muse_fx.server.app import create_app
from muse_fx.server.limits import ServerConfig
from muse_fx.server.model_pool import load_models
from muse_fx.server.params import parse_params

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def client(tiny_model_path):
    with TestClient(make_app(tiny_model_path, max_upload_mb=1, max_seconds=5)) as client:
        yield client


def post(client, data: bytes, name: str = "in.wav", **fields):
    return client.post("/v1/enhance", files={"file": (name, data)}, data={k: str(v) for k, v in fields.items()})


def test_health_and_models_name_what_is_loaded(client):
    health = client.get("/health").json()
    assert health["ready"] and health["device"] == "cpu"
    assert list(health["models"]) == ["tiny"] and health["models"]["tiny"].startswith("sha256:")
    models = client.get("/v1/models").json()
    assert models["default"] == "tiny"
    assert models["models"] == [{"name": "tiny", "version": health["models"]["tiny"], "sample_rate": 16000}]


@pytest.mark.parametrize("channels, rate", [(1, 16000), (2, 44100), (3, 8000)])
def test_enhance_keeps_rate_channels_length_and_matches_local(client, tiny_model_path, channels, rate):
    audio = noise(channels, 1.3, rate)
    response = post(client, encode(audio, rate))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["x-muse-fx-model"].startswith("tiny sha256:")
    out, out_rate, info = decode(response.content)
    assert (out.shape, out_rate, info.subtype) == (audio.shape, rate, "FLOAT")
    np.testing.assert_allclose(out, solo(tiny_model_path, audio, rate), atol=1e-5)


def test_parameters_reach_the_engine(client, tiny_model_path):
    audio = noise(1, 1.0, 16000)
    response = post(client, encode(audio, 16000), mix=0.25, strength=0.4, seed=3, full_band="false")
    expected = solo(tiny_model_path, audio, 16000, mix=0.25, strength=0.4, seed=3, full_band=False)
    np.testing.assert_allclose(decode(response.content)[0], expected, atol=1e-5)


def test_diffusion_runs(client):
    audio = noise(1, 0.3, 16000)
    out = decode(post(client, encode(audio, 16000), musecoder="diffusion").content)[0]
    assert out.shape == audio.shape and np.all(np.isfinite(out))


@pytest.mark.parametrize("container, subtype", [("WAV", "PCM_16"), ("WAV", "PCM_24"), ("FLAC", "PCM_16")])
def test_output_same_keeps_container_and_subtype(client, container, subtype):
    audio = noise(2, 0.5, 22050)
    response = post(client, encode(audio, 22050, subtype, container), output="same")
    out, rate, info = decode(response.content)
    assert (info.format, info.subtype, rate, out.shape) == (container, subtype, 22050, audio.shape)
    assert response.headers["content-type"] == f"audio/{container.lower()}"


def test_empty_audio_is_422_like_the_cli(client):
    response = post(client, encode(np.zeros((2, 0), np.float32), 16000))
    assert response.status_code == 422 and "holds no audio (0 samples)" in response.json()["detail"]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"steps": 7}, "steps must be 6 (fast schedule) or 50"),
        ({"steps": "six"}, "steps='six' is not a valid int"),
        ({"mix": 1.5}, "mix must be between"),
        ({"mix": "nan"}, "mix must be between"),
        ({"strength": 1.5}, "strength must be between 0.0 (no noise cut at all) and 1.0"),
        ({"strength": "-0.1"}, "strength must be between"),
        ({"strength": "lots"}, "strength='lots' is not a valid float"),
        ({"seed": -1}, "seed must be a non-negative"),
        ({"musecoder": "hifigan"}, "musecoder must be one of fast, diffusion"),
        ({"full_band": "maybe"}, "full_band='maybe' is not a valid boolean"),
        ({"output": "mp3"}, "output must be one of float32, same"),
        ({"model": "other"}, "model 'other' is not loaded on this server; loaded: tiny"),
        ({"colour": "red"}, "unknown form field(s) colour"),
    ],
)
def test_bad_parameters_are_422_naming_the_problem(client, fields, message):
    response = post(client, encode(noise(1, 0.1, 16000), 16000), **fields)
    assert response.status_code == 422 and message in response.json()["detail"]


def test_diffusion_with_a_model_without_musecoder_is_a_422_naming_one_with(tiny_model_path, fast_only_model_path):
    """It was a 500 with a traceback (issue 25); a model without one on its own renders with the fast path."""
    models = load_models([str(fast_only_model_path), str(tiny_model_path)], CPU)
    with TestClient(create_app(models, CPU, ServerConfig())) as client:
        audio = encode(noise(1, 0.1, 16000), 16000)
        refused = post(client, audio, musecoder="diffusion")
        assert refused.status_code == 422
        assert refused.json()["detail"] == (
            "model 'fast-only' has no musecoder (it renders with the fast path only); send musecoder=fast, "
            "or model=tiny (loaded with one)"
        )
        assert post(client, audio, model="tiny", musecoder="diffusion").status_code == 200
        assert post(client, audio).status_code == 200
    # On a GPU the server's default is diffusion; a model without a musecoder still gets the fast path
    from starlette.datastructures import FormData

    assert parse_params(FormData(), ["fast-only"], "diffusion", 2, {"fast-only"}).settings.musecoder == "fast"


def test_a_request_cannot_name_a_path(client, tiny_model_path, tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr("muse_fx.engine.weights._read", lambda path: opened.append(path))
    for model in (str(tiny_model_path), "../tiny.safetensors", "/etc/passwd"):
        response = post(client, encode(noise(1, 0.1, 16000), 16000), model=model)
        assert response.status_code == 422 and "not loaded on this server" in response.json()["detail"]
    assert opened == []


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "not readable audio"),
        (b"RIFF\x00\x00\x00\x00WAVEjunk" * 10, "not readable audio"),
        (bytes(range(256)) * 10, "not readable audio"),
        (encode(noise(1, 0.2, 16000), 16000, "VORBIS", "OGG"), "files are not accepted; send WAV or FLAC"),
        (encode(np.full((1, 100), np.nan, np.float32), 16000), "NaN or infinite"),
        (encode(noise(1, 0.01, 1000), 1000), "sample rate 1000"),
    ],
)
def test_malformed_audio_is_422_naming_the_problem(client, data, message):
    response = post(client, data)
    assert response.status_code == 422 and message in response.json()["detail"]


def test_truncated_files_are_answered_not_crashed(client):
    audio = noise(2, 1.0, 16000)
    for data in (encode(audio, 16000)[:30000], encode(audio, 16000, "PCM_16", "FLAC")[:5000]):
        response = post(client, data)
        assert response.status_code in (200, 422), response.text
        if response.status_code == 200:  # libsndfile reads what is there
            assert 0 < decode(response.content)[0].shape[1] <= audio.shape[1]
    assert client.get("/health").json()["ready"]


def test_missing_file_or_wrong_encoding_is_422(client):
    assert "no complete audio file" in client.post("/v1/enhance", data={"steps": "6"}).json()["detail"]
    assert client.post("/v1/enhance", content=b"raw bytes").status_code == 422
    two = [("file", ("a.wav", b"1")), ("file", ("b.wav", b"2"))]
    response = client.post("/v1/enhance", files=two)
    assert response.status_code == 422 and "malformed multipart" in response.json()["detail"]


def test_oversize_upload_is_413_with_the_limit(client):
    response = post(client, encode(noise(2, 4.0, 48000), 48000))  # 1.5 MiB > 1 MiB
    assert response.status_code == 413 and "limit of 1 MiB" in response.json()["detail"]


def test_oversize_upload_without_content_length_is_413(client):
    body = encode(noise(2, 4.0, 48000), 48000)
    boundary = "xyz"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'.encode(),
        body,
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    response = client.post("/v1/enhance", content=iter(parts), headers=headers)  # sent chunked
    assert response.status_code == 413


def test_overlong_audio_is_413_with_the_limit(client):
    response = post(client, encode(noise(1, 6.0, 8000), 8000, "PCM_16"))  # 96 kB, 6 s > 5 s
    assert response.status_code == 413 and "limit of 5 s for 1 channel(s) at 8000 Hz" in response.json()["detail"]


def test_audio_that_decodes_too_large_is_413(tiny_model_path):
    with TestClient(make_app(tiny_model_path, max_audio_mb=0.1)) as client:
        response = post(client, encode(np.zeros((2, 20000), np.float32), 16000, "PCM_16", "FLAC"))  # 156 KiB
    assert response.status_code == 413 and "0.1 MiB decoded" in response.json()["detail"]


def test_request_timeout_is_504(tiny_model_path):
    with TestClient(make_app(tiny_model_path, request_timeout=0.001)) as client:
        response = post(client, encode(noise(1, 1.0, 16000), 16000))
    assert response.status_code in (408, 504)


@pytest.fixture(scope="module")
def guarded(tiny_model_path):
    with TestClient(make_app(tiny_model_path, token=TOKEN)) as client:
        yield client


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"])
def test_missing_or_wrong_token_is_401_everywhere(guarded, header):
    headers = {"Authorization": header} if header else {}
    for method, path in (("GET", "/health"), ("GET", "/v1/models"), ("POST", "/v1/enhance")):
        response = guarded.request(method, path, headers=headers)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_right_token_is_accepted(guarded):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert guarded.get("/health", headers=headers).json()["ready"]
    files = {"file": ("a.wav", encode(noise(1, 0.2, 16000), 16000))}
    assert guarded.post("/v1/enhance", headers=headers, files=files).status_code == 200
