"""Load and faults on a real uvicorn server (loopback, ephemeral port): many clients at once, hang-ups, a full
queue. None of it may crash the server, and every accepted request must get a complete, correct answer."""

import select
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import numpy as np
import pytest
from test_server_support import encode, make_app, noise, solo

from muse_fx.backends.client import ServerBusyError, ServerClient
from muse_fx.server import upload
from muse_fx.server.runner import run_in_background

BOUNDARY = "muse-fx-test"


def multipart(data: bytes) -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'.encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def raw_post(url: str, body: bytes, declared: int | None = None) -> socket.socket:
    """Open a connection and send a POST whose Content-Length says `declared` (default: the body's length)."""
    address = urlparse(url)
    sock = socket.create_connection((address.hostname, address.port))
    sock.sendall(
        f"POST /v1/enhance HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body) if declared is None else declared}\r\n\r\n".encode()
        + body
    )
    return sock


def wait_idle(client: ServerClient, timeout: float = 20.0) -> dict:
    """Health once every admitted request has finished (a hang-up is noticed asynchronously)."""
    end = time.monotonic() + timeout
    while (health := client.health())["requests"]["active"] and time.monotonic() < end:
        time.sleep(0.05)
    return health


@pytest.fixture(scope="module")
def url(tiny_model_path):
    with run_in_background(make_app(tiny_model_path, max_requests=16)) as url:
        yield url


@pytest.fixture
def client(url):
    with ServerClient(url, retries=0) as client:
        yield client


def test_concurrent_clients_with_mixed_lengths_all_get_their_own_answer(url, client, tiny_model_path):
    clips = [
        (noise(1 + i % 2, 0.2 + 1.1 * i, (16000, 22050, 8000)[i % 3], seed=i), (16000, 22050, 8000)[i % 3])
        for i in range(6)
    ]
    with ThreadPoolExecutor(len(clips)) as pool:
        answers = list(pool.map(lambda clip: ServerClient(url).enhance_array(*clip), clips))
    for (audio, rate), answer in zip(clips, answers, strict=True):
        np.testing.assert_allclose(answer, solo(tiny_model_path, audio, rate), atol=1e-5)
    health = wait_idle(client)
    assert health["ready"] and health["batching"]["queued"] == 0


def test_hang_up_mid_upload_frees_the_slot(client):
    body = multipart(encode(noise(2, 2.0, 44100), 44100))
    raw_post(client.url, body[: len(body) // 3], declared=len(body)).close()
    assert wait_idle(client)["requests"]["active"] == 0
    assert client.enhance_array(noise(1, 0.2, 16000), 16000).shape == (1, 3200)


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_multipart_is_answered_not_crashed(client, cut):
    body = multipart(encode(noise(1, 1.0, 16000), 16000))
    body = body[: int(len(body) * cut)]
    with raw_post(client.url, body) as sock:
        status = sock.recv(64).split()[1]
    assert status in (b"200", b"422")
    assert wait_idle(client)["ready"]


def test_hang_up_while_enhancing_stops_the_work(client, monkeypatch):
    from muse_fx.engine.pipeline import Enhancer

    original = Enhancer.process_chunks

    def slow(self, *args, **kwargs):  # every pass takes ≥ 0.25 s, so the hang-up lands mid-request on any machine
        time.sleep(0.25)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Enhancer, "process_chunks", slow)
    before = client.health()["batching"]["chunks"]
    sock = raw_post(client.url, multipart(encode(noise(1, 40.0, 8000), 8000)))  # 18 chunks
    time.sleep(0.3)
    sock.close()
    health = wait_idle(client)
    assert health["requests"]["active"] == 0 and health["batching"]["chunks"] - before < 18


def test_garbage_and_oversize_streams_leave_the_server_healthy(client):
    for body, declared in ((b"\x00" * 5000, None), (b"--x\r\n" * 100, None), (b"a" * 100, 10**12)):
        with raw_post(client.url, body, declared) as sock:
            assert sock.recv(64).split()[1] in (b"413", b"422")
    assert wait_idle(client)["ready"]


def test_full_queue_answers_503_with_retry_after_and_clients_retry(tiny_model_path):
    with run_in_background(make_app(tiny_model_path, max_requests=1, retry_after=1)) as url:
        body = multipart(encode(noise(1, 0.5, 16000), 16000))
        holder = raw_post(url, body[:100], declared=len(body))  # a slow upload holds the only slot
        time.sleep(0.2)
        with pytest.raises(ServerBusyError, match="retry in 1 s"):
            ServerClient(url, retries=0).enhance_array(noise(1, 0.2, 16000), 16000)
        threading.Timer(0.5, holder.close).start()
        started = time.monotonic()
        out = ServerClient(url, retries=3, backoff=0.01).enhance_array(noise(1, 0.2, 16000), 16000)
        assert out.shape == (1, 3200) and time.monotonic() - started >= 1.0  # waited as told


def test_a_trickling_upload_gets_408_and_frees_its_slot(tiny_model_path, monkeypatch):
    """Uploads at a byte every two seconds held every slot for --timeout (600 s), and everyone else got 503."""
    monkeypatch.setattr(upload, "UPLOAD_GRACE", 0.5)
    with run_in_background(make_app(tiny_model_path, max_requests=1, min_upload_rate=1.0, idle_timeout=1.0)) as url:
        body = multipart(encode(noise(1, 0.5, 16000), 16000))
        started = time.monotonic()
        with raw_post(url, body[:100], declared=len(body)) as trickle:
            for byte in body[100:200]:  # 5 bytes a second, against a minimum of 1 KiB/s
                if select.select([trickle], [], [], 0.2)[0]:
                    break
                trickle.sendall(bytes([byte]))
            answered_after = time.monotonic() - started
            answer = b"".join(iter(lambda: trickle.recv(4096), b""))
        assert answer.split()[1] == b"408" and b"slower than this server's minimum of 1 KiB/s" in answer
        assert answered_after < 5
        assert ServerClient(url, retries=0).enhance_array(noise(1, 0.2, 16000), 16000).shape == (1, 3200)
