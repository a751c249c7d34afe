"""muse-fx on Ray: batch enhancement and Ray Serve on one private single-node cluster for the whole module
(`ray.init` takes ~25 s cold), kept on loopback and to 2 CPUs. Ray's tests skip without the `ray` extra;
the first tests check that the core package works, and says how to get Ray, without it."""

import functools
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import torch_threads

from muse_fx.cli import main
from muse_fx.files import Outcome, build_board
from muse_fx.scale.cluster import LOCAL, RayMissingError, connected, import_ray

TOKEN = "ray-test-token"
CLIPS = {  # name: (rate, channels, subtype); 1–1.5 s each
    "mono16k.wav": (16000, 1, "PCM_16"),
    "stereo44k.flac": (44100, 2, "PCM_24"),
    "stereo48k.wav": (48000, 2, "FLOAT"),
    "mono48k.aiff": (48000, 1, "PCM_16"),
}
RAY_WORKERS = ["--ray", LOCAL, "--ray-workers", "2", "--ray-cpus-per-worker", "0.5"]


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_core_package_and_help_do_not_import_ray():
    result = run_python(
        "import sys, muse_fx\n"
        "from click.testing import CliRunner\n"
        "from muse_fx.cli import main\n"
        "for args in (['--help'], ['enhance', '--help'], ['serve', '--help']):\n"
        "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("command", ["enhance x.wav --ray local", "serve --ray local"])
def test_without_ray_the_commands_say_how_to_install_it(command, tmp_path):
    result = run_python(
        "import sys; sys.modules['ray'] = None  # what `import ray` does when Ray is not installed\n"
        "from click.testing import CliRunner\n"
        "from muse_fx.cli import main\n"
        f"result = CliRunner().invoke(main, {command.split()!r})\n"
        "print(result.exit_code, result.output)\n"
    )
    assert result.stdout.startswith("1 "), result.stdout + result.stderr
    assert 'install the ray extra in your clone of muse_fx: pip install -c constraints.txt -e ".[ray]"' in result.stdout


def test_ray_address_that_looks_like_an_input_is_refused_with_a_hint(tmp_path):
    result = CliRunner().invoke(main, ["enhance", "--ray", str(tmp_path), "x.wav"])
    assert result.exit_code == 2
    assert "--ray takes local, auto" in result.output and "put --ray after the inputs" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--replicas", "2"], "need --ray"),
        (["--ray", "local", "--model", "no-such-model"], "unknown model 'no-such-model'"),  # before any cluster starts
    ],
)
def test_serve_refuses_ray_settings_it_cannot_use(args, message):
    result = CliRunner().invoke(main, ["serve", *args])
    assert result.exit_code != 0 and message in result.output, result.output


@pytest.fixture(scope="module")
def cluster():
    try:
        import_ray(loopback=True)
    except RayMissingError:
        pytest.skip("the Ray tests need the `ray` extra")
    with connected(LOCAL, num_cpus=2) as ray:
        yield ray


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """Stereo and mono, 16, 44.1 and 48 kHz, WAV/FLAC/AIFF, and one corrupt file."""
    folder = tmp_path_factory.mktemp("library")
    rng = np.random.default_rng(0)
    for index, (name, (rate, channels, subtype)) in enumerate(CLIPS.items()):
        audio = rng.standard_normal((round(rate * (1 + index / 6)), channels)) * 0.1
        sf.write(folder / name, audio.astype(np.float32), rate, subtype=subtype)
    (folder / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage that is not audio")
    return folder


@pytest.fixture(scope="module")
def model_args(tiny_model_path) -> list[str]:
    return ["--model", str(tiny_model_path), "--device", "cpu", "--musecoder", "fast"]


@pytest.fixture(scope="module")
def local_outputs(library, model_args, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local")
    result = CliRunner().invoke(main, ["enhance", str(library), "--output-dir", str(out), *model_args])
    assert result.exit_code == 1 and "4 of 5 file(s) enhanced, 1 failed" in result.output, result.output
    return out


def assert_same_audio(file: Path, reference: Path) -> None:
    """Bit for bit the same samples in the same format (bytes can differ: float WAVs carry a timestamp)."""
    info, expected = sf.info(file), sf.info(reference)
    assert (info.format, info.subtype, info.samplerate, info.channels) == (
        expected.format,
        expected.subtype,
        expected.samplerate,
        expected.channels,
    )
    assert np.array_equal(sf.read(file, dtype="float64")[0], sf.read(reference, dtype="float64")[0]), file.name


def assert_same_files(folder: Path, reference: Path) -> None:
    """The local run's files and nothing else: no temp files, no half-written outputs."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in reference.iterdir()) == sorted(CLIPS)
    for name in CLIPS:
        assert_same_audio(folder / name, reference / name)


@pytest.mark.parametrize("mode", [[], ["--ray-ship"]], ids=["shared-paths", "shipped-bytes"])
def test_batch_writes_what_a_local_run_writes_and_names_the_corrupt_file(
    cluster, library, model_args, local_outputs, tmp_path, mode
):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["enhance", str(library), "--output-dir", str(out), *model_args, *RAY_WORKERS, *mode]
    )
    assert result.exit_code == 1, result.output
    assert "4 of 5 file(s) enhanced, 1 failed" in result.output
    assert f"✗ {library / 'corrupt.wav'}: not a readable audio file" in result.output  # the user's path, not a copy
    assert_same_files(out, local_outputs)


def test_rerun_skips_finished_outputs_and_overwrite_redoes_them(cluster, library, model_args, local_outputs, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    finished = out / "mono16k.wav"
    finished.write_bytes(b"a finished output")  # outputs appear only once complete, so an existing one is done
    args = [
        "enhance",
        str(library / "mono16k.wav"),
        str(library / "stereo48k.wav"),
        "--output-dir",
        str(out),
        *model_args,
        *RAY_WORKERS,
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "skipping 1 file(s) already enhanced" in result.output and "1 of 1" not in result.output
    assert finished.read_bytes() == b"a finished output"
    assert_same_audio(out / "stereo48k.wav", local_outputs / "stereo48k.wav")

    result = CliRunner().invoke(main, args + ["--overwrite"])
    assert result.exit_code == 0 and "2 of 2 file(s) enhanced" in result.output, result.output
    assert_same_audio(finished, local_outputs / "mono16k.wav")


class DiesMidFile:
    """A board that kills its own process mid-file, as an OOM kill or a lost node would: on its first block while
    `marker` does not exist (then it creates it), and on every block at `poison_rate` Hz."""

    def __init__(self, board, marker: Path, poison_rate: int | None):
        self.board, self.marker, self.poison_rate = board, marker, poison_rate

    def reset(self) -> None:
        self.board.reset()

    def process(self, block, sample_rate, reset=True):
        if sample_rate == self.poison_rate or not self.marker.exists():
            self.marker.touch()
            os._exit(1)
        return self.board.process(block, sample_rate, reset=reset)


def dies_mid_file(marker: Path, poison_rate: int | None, **settings) -> DiesMidFile:
    return DiesMidFile(build_board(None, **settings), marker, poison_rate)


@pytest.fixture
def dying_board(cluster, tiny_model_path):
    """`make_board` for workers that die mid-file; this module travels to them by value (they cannot import it)."""
    cluster.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield functools.partial(dies_mid_file, model=tiny_model_path, device="cpu", musecoder="fast")
    cluster.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def enhance_with(make_board, library: Path, names: list[str], out: Path, ship: bool = False):
    from muse_fx.scale.batch import RayBatch, enhance_on_ray

    out.mkdir()
    pairs = [(library / name, out / name) for name in names]
    batch = RayBatch(LOCAL, workers=1, cpus_per_worker=0.5, ship=ship)
    outcomes: list[Outcome] = []
    enhance_on_ray(make_board, pairs, batch, outcomes.append, overwrite=False)
    return [(outcome.source, outcome.error) for outcome in outcomes if outcome.error is not None]


@pytest.mark.parametrize("ship", [False, True], ids=["shared-paths", "shipped-bytes"])
def test_a_worker_killed_mid_file_is_restarted_and_the_file_redone(dying_board, library, local_outputs, tmp_path, ship):
    marker = tmp_path / "died"
    names = ["mono16k.wav", "stereo44k.flac"]
    failures = enhance_with(functools.partial(dying_board, marker, None), library, names, tmp_path / "out", ship)
    assert marker.exists()  # the first attempt did die, with its temp output open
    assert failures == []
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(names)  # nothing half-written, no temp files left
    for name in names:
        assert_same_audio(out / name, local_outputs / name)


def test_a_file_that_kills_every_worker_fails_alone_after_the_retries(dying_board, library, local_outputs, tmp_path):
    marker = tmp_path / "died"
    marker.touch()  # only the 48 kHz file kills its worker, every time
    names = ["mono16k.wav", "stereo48k.wav"]  # the last: no later file's start sweeps what its attempts left
    failures = enhance_with(functools.partial(dying_board, marker, 48000), library, names, tmp_path / "out")
    assert [(source.name, "failed 3 times" in message) for source, message in failures] == [("stereo48k.wav", True)]
    out = tmp_path / "out"
    assert [p.name for p in out.iterdir()] == ["mono16k.wav"]
    assert_same_audio(out / "mono16k.wav", local_outputs / "mono16k.wav")


def test_with_the_bundled_model_a_worker_writes_what_a_local_run_at_its_thread_count_writes(cluster, library, tmp_path):
    """A worker runs torch on max(1, floor(--ray-cpus-per-worker)) threads; the sums of the bundled model round
    differently at other counts (test_bundled_model.py), so the same audio means the same count."""
    from muse_fx.files import enhance_file

    make_board = functools.partial(build_board, None, model="default", device="cpu")
    assert enhance_with(make_board, library, ["stereo44k.flac"], tmp_path / "ray") == []
    with torch_threads(1):
        enhance_file(make_board(), library / "stereo44k.flac", tmp_path / "local.flac")
    assert_same_audio(tmp_path / "ray" / "stereo44k.flac", tmp_path / "local.flac")


POSIX = pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM and SIGHUP")


def long_take(folder: Path) -> Path:
    """Ten minutes of noise: long enough to be stopped while a worker renders it."""
    folder.mkdir()
    audio = np.random.default_rng(0).standard_normal((600 * 16000, 1)).astype(np.float32) * 0.1
    sf.write(folder / "long.wav", audio, 16000)
    return folder / "long.wav"


def wait_for_temp_files(out: Path, running: Callable[[], bool]) -> None:
    """Returns once a worker writes its temp output into `out` (hidden names, muse_fx.io.atomic)."""
    deadline = time.monotonic() + 180
    while not list(out.glob(".*")):
        assert running(), "the run ended before it wrote anything"
        assert time.monotonic() < deadline, "no worker started rendering"
        time.sleep(0.05)


def listening_addresses(pids: set[int]) -> set[str]:
    """The local addresses on which the processes `pids` accept TCP connections or UDP datagrams."""
    return {
        connection.laddr.ip
        for connection in psutil.net_connections(kind="inet")
        if connection.pid in pids and (connection.status == psutil.CONN_LISTEN or connection.type == socket.SOCK_DGRAM)
    }


def on_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    return address.is_loopback or bool(getattr(address, "ipv4_mapped", None) and address.ipv4_mapped.is_loopback)


def ray_processes(driver: int) -> set[int]:
    """The driver and what it started: GCS, raylet, agents and the workers."""
    return {driver, *(child.pid for child in psutil.Process(driver).children(recursive=True))}


@POSIX
def test_sigterm_stops_a_ray_run_like_ctrl_c_and_its_cluster_listens_on_loopback_only(tiny_model_path, tmp_path):
    """systemd, Kubernetes and `ray job stop` send SIGTERM; ray.init's own handler aborted the driver."""
    source, out = long_take(tmp_path / "in"), tmp_path / "out"
    command = [sys.executable, "-c", "from muse_fx.cli import main; main()", "enhance", str(source)]
    options = ["--output-dir", str(out), "--model", str(tiny_model_path), "--device", "cpu", *RAY_WORKERS[:4]]
    process = subprocess.Popen([*command, *options], stderr=subprocess.PIPE, text=True)
    try:
        wait_for_temp_files(out, lambda: process.poll() is None)
        addresses = listening_addresses(ray_processes(process.pid))
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert addresses and all(map(on_loopback, addresses)), addresses
    assert process.returncode == 143, stderr
    assert "stopped by SIGTERM: the files in progress were not written" in stderr
    assert "Traceback" not in stderr and "SIGTERM received" not in stderr  # no stack dump
    assert list(out.iterdir()) == []


@POSIX
def test_sighup_stops_a_ray_run_with_its_own_exit_status(cluster, model_args, tmp_path):
    """Ray's waits turn the signal into a bare KeyboardInterrupt, which exited 130 as if it were Ctrl-C."""
    source, out = long_take(tmp_path / "in"), tmp_path / "out"
    args = ["enhance", str(source), "--output-dir", str(out), *model_args, *RAY_WORKERS[:4]]
    running = threading.Event()
    running.set()

    def hang_up() -> None:
        wait_for_temp_files(out, running.is_set)
        os.kill(os.getpid(), signal.SIGHUP)

    previous = signal.signal(signal.SIGHUP, lambda *_: None)  # a signal that comes too late must not end pytest
    try:
        threading.Thread(target=hang_up, daemon=True).start()
        result = CliRunner().invoke(main, args)
    finally:
        running.clear()
        signal.signal(signal.SIGHUP, previous)
    assert result.exit_code == 129, result.output
    assert "stopped by SIGHUP: the files in progress were not written" in result.output
    assert list(out.iterdir()) == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(cluster, tiny_model_path, fast_only_model_path):
    """`muse-fx serve --ray` with 2 replicas and a token, on loopback; the command returns once they serve.
    The tiny model is the default; a second one has no musecoder, as the bundled default (full-band)."""
    import muse_fx.scale.serve

    port = free_port()
    args = [
        "serve",
        "--ray",
        LOCAL,
        "--replicas",
        "2",
        "--cpus-per-replica",
        "0.5",
        "--port",
        str(port),
        "--model",
        str(tiny_model_path),
        "--model",
        str(fast_only_model_path),
        "--device",
        "cpu",
        "--max-upload-mb",
        "1",
        "--max-seconds",
        "5",
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(muse_fx.scale.serve, "serve_until_interrupted", lambda: None)
        result = CliRunner().invoke(main, args, env={"MUSE_FX_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    url = f"http://127.0.0.1:{port}"
    assert f"fast-only.safetensors on Ray Serve (2 replica(s)) at {url} (token required)" in result.output
    yield url
    from ray import serve

    serve.shutdown()


@pytest.fixture(scope="module")
def embedded(tiny_model_path):
    """The embedded server with the same model and limits: what every Ray Serve answer must equal."""
    from test_server_support import TestClient, make_app

    with TestClient(make_app(tiny_model_path, token=TOKEN, max_upload_mb=1, max_seconds=5)) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield client


def test_serve_runs_two_replicas_that_answer_like_the_embedded_server(served, embedded, library, tmp_path):
    from ray import serve

    from muse_fx.backends.client import ServerClient
    from muse_fx.scale.serve import APP

    deployment = serve.status().applications[APP].deployments[APP]
    assert deployment.replica_states == {"RUNNING": 2}
    names = ["mono16k.wav", "stereo44k.flac", "stereo48k.wav", "mono48k.aiff"][:3]  # AIFF is not an upload format

    def enhance(name: str) -> Path:
        with ServerClient(served, token=TOKEN) as client:
            return client.enhance_file(library / name, tmp_path / name)

    with ThreadPoolExecutor(len(names)) as pool:  # at once, so Serve may batch them together
        answers = list(pool.map(enhance, names))
    for name, answer in zip(names, answers):
        assert_same_audio(answer, embedded_answer(embedded, library / name, tmp_path))


def embedded_answer(embedded, source: Path, folder: Path) -> Path:
    """The embedded server's answer for `source`, in its format (what the client asks for), as a file."""
    with open(source, "rb") as upload:
        response = embedded.post("/v1/enhance", files={"file": (source.name, upload)}, data={"output": "same"})
    assert response.status_code == 200, response.text
    answer = folder / f"embedded-{source.name}"
    answer.write_bytes(response.content)
    return answer


def test_serve_wants_the_token(served):
    import httpx

    from muse_fx.backends.client import ServerAuthError, ServerClient

    response = httpx.get(f"{served}/health", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    with pytest.raises(ServerAuthError, match="MUSE_FX_TOKEN"), ServerClient(served, token="wrong") as client:
        client.models()
    with ServerClient(served, token=TOKEN) as client:
        assert client.health()["ready"] and [m["name"] for m in client.models()] == ["tiny", "fast-only"]


def test_serve_keeps_the_servers_limits_and_error_codes(served, library):
    import httpx

    post = functools.partial(
        httpx.post, f"{served}/v1/enhance", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
    )
    corrupt = post(files={"file": ("corrupt.wav", (library / "corrupt.wav").read_bytes())})
    assert corrupt.status_code == 422 and "not readable audio" in corrupt.json()["detail"]
    too_long = np.zeros((6 * 16000, 1), np.float32)  # over --max-seconds 5
    encoded = io_wav(too_long, 16000)
    assert post(files={"file": ("long.wav", encoded)}).status_code == 413
    assert post(files={"file": ("big.wav", b"\0" * (2 << 20))}).status_code == 413  # over --max-upload-mb 1
    short = io_wav(too_long[:1600], 16000)
    unknown = post(files={"file": ("a.wav", short)}, data={"model": "other"})
    assert unknown.status_code == 422 and "not loaded on this server" in unknown.json()["detail"]
    no_musecoder = post(files={"file": ("a.wav", short)}, data={"model": "fast-only", "musecoder": "diffusion"})
    assert no_musecoder.status_code == 422 and "send musecoder=fast" in no_musecoder.json()["detail"]  # was a 500


def io_wav(audio: np.ndarray, rate: int) -> bytes:
    import io

    buffer = io.BytesIO()
    sf.write(buffer, audio, rate, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


def test_muse_enhance_and_the_daw_actions_work_against_serve(
    served, embedded, library, tiny_model_path, tmp_path, monkeypatch
):
    from test_server_support import decode, encode, noise, solo

    from muse_fx import MuseEnhance
    from muse_fx.files import make_enhance_file

    monkeypatch.setenv("MUSE_FX_TOKEN", TOKEN)
    audio = noise(2, 1.2, 44100)
    expected = decode(embedded.post("/v1/enhance", files={"file": ("a.wav", encode(audio, 44100))}).content)[0]
    enhanced = MuseEnhance(server=served, musecoder="fast")(audio, 44100)
    assert np.array_equal(enhanced, expected)
    np.testing.assert_allclose(enhanced, solo(tiny_model_path, audio, 44100), atol=1e-5)  # as test_server.py

    make_enhance_file(server=served)(library / "mono16k.wav", tmp_path / "daw.wav")  # what Reaper and Audacity call
    assert_same_audio(tmp_path / "daw.wav", embedded_answer(embedded, library / "mono16k.wav", tmp_path))


def test_a_private_cluster_and_its_serve_replicas_listen_on_loopback_only(served):
    """Serve's replicas opened their gRPC server for calls between deployments on every interface."""
    addresses = listening_addresses(ray_processes(os.getpid()))
    assert addresses and all(map(on_loopback, addresses)), addresses


def test_serve_config_files_build_the_same_application(cluster, tiny_model_path, tmp_path):
    from ray.serve import Application

    from muse_fx.scale.serve import build

    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    app = build({"models": [str(tiny_model_path)], "device": "cpu", "token_file": str(token_file), "max_requests": 3})
    assert isinstance(app, Application)
    with pytest.raises(TypeError, match="max_request"):
        build({"max_request": 3})  # a misspelt limit is an error, not ignored
